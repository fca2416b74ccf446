import NIOCore
import NIOWebSocket

/// The events stream over WebSocket: server frames come from the `EventSink`; this handler
/// keeps the connection honest. Pings every 10 s and closes after more than 2 missed pongs;
/// any data frame from the client ends the stream, as in Incus.
final class WebSocketEventHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    static let pingInterval = TimeAmount.seconds(10)
    static let maxMissedPongs = 2

    private let subscription: EventSubscription
    private let services: Services
    private let connection: ConnectionContext
    private var sink: EventSink?
    private var missedPongs = 0
    private var pinger: RepeatedTask?

    init(subscription: EventSubscription, services: Services, connection: ConnectionContext) {
        self.subscription = subscription
        self.services = services
        self.connection = connection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        pinger = context.eventLoop.scheduleRepeatedTask(initialDelay: Self.pingInterval, delay: Self.pingInterval) { _ in
            loopBound.value.ping(channel)
        }
        let sink = EventSink(
            channel: channel, subscription: subscription, transport: .webSocket, services: services, connection: connection)
        self.sink = sink
        sink.start()
    }

    /// The daemon stopping, or the instance deleted or re-attached, ends the stream (or not) through its sink.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent: sink?.end(.shutdown)
        case let change as InstanceChange: sink?.instanceChanged(change)
        default: context.fireUserInboundEventTriggered(event)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pinger?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        pinger?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard !WebSocketClientRules.isViolation(frame) else { return close(context, code: .protocolError) }
        switch frame.opcode {
        case .pong:
            missedPongs = 0
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            close(context, code: WebSocketClientRules.closeReply(to: frame.unmaskedData))
        default:
            // A data frame from the client ends the stream.
            context.close(promise: nil)
        }
    }

    /// Sends a close frame with `code`, then closes the connection.
    private func close(_ context: ChannelHandlerContext, code: WebSocketErrorCode) {
        var reply = context.channel.allocator.buffer(capacity: 2)
        reply.write(webSocketErrorCode: code)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: reply))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    private func ping(_ channel: Channel) {
        missedPongs += 1
        if missedPongs > Self.maxMissedPongs {
            channel.close(promise: nil)
            return
        }
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .ping, data: channel.allocator.buffer(string: "guestapi")), promise: nil)
    }
}
