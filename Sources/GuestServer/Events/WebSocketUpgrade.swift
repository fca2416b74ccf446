import NIOCore
import NIOHTTP1
import NIOWebSocket

/// `GET /1.0/events` with an upgrade request becomes a WebSocket stream. The check runs
/// the same identity and subscription rules as a plain request; when it says no, the request
/// goes on to the HTTP handler, which answers the error (410 before any upgrade).
enum WebSocketUpgrade {
    static func upgrader(connection: NIOLoopBound<ConnectionContext>, services: Services) -> NIOWebSocketServerUpgrader {
        NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 16, automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                let request = GuestRequest(head: head, body: nil)
                guard head.method == .GET, Route(path: request.path) == .events else {
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                do {
                    let store = services.stores.reader(on: channel.eventLoop)
                    let instance = try services.instance(for: connection.value, store: store)
                    guard instance.apiEnabled else { return channel.eventLoop.makeSucceededFuture(nil) }
                    connection.value.pendingSubscription = try EventSubscription(request: request, instance: instance, store: store)
                    return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                } catch {
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    // The HTTP handlers are done; the byte-level deadlines would cut a quiet stream.
                    _ = sync.removeHandler(try sync.handler(type: GuestConnectionHandler.self))
                    _ = sync.removeHandler(try sync.handler(type: RequestDeadlines.self))
                    guard let subscription = connection.value.pendingSubscription else { throw GuestError.internalError }
                    try sync.addHandler(WebSocketEventHandler(subscription: subscription, services: services))
                }
            })
    }
}
