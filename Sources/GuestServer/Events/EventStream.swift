import NIOCore
import NIOHTTP1

/// Starts a plain (non-WebSocket) event stream: a 200 whose body is one JSON object per
/// line, chunked, until the client goes away.
enum EventStream {
    static func start(_ subscription: EventSubscription, head: HTTPResponseHead,
                      context: ChannelHandlerContext, services: Services) {
        var head = head
        head.headers.remove(name: "Content-Length")
        head.headers.remove(name: "Connection")
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        EventSink(channel: context.channel, subscription: subscription, transport: .chunked, services: services).start()
    }
}
