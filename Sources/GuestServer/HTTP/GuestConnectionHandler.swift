import GuestHTTP
import GuestRoutes
import GuestStore
import NIOCore

/// Serves one guest connection: frames its requests (`RequestParser`), answers them one at
/// a time and in order, and writes each answer as one buffer. Identity was resolved on
/// accept; `ConnectionContext` carries it. What to do next, back-pressure and the deadlines
/// included, is `ConnectionStateMachine`'s to decide; this does the I/O it asks for.
///
/// Malformed HTTP gets a 4xx and the connection closed. Both clocks share one timer, armed
/// once and moved on when it fires early, so that a keep-alive request costs a clock read,
/// not a timer.
final class GuestConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The clocks and sizes (README, "Limits a guest cannot pass").
    struct Limits: Sendable {
        var clocks = ConnectionStateMachine.Clocks()
        var request = RequestParser.Limits()
    }

    private static let noBytes = ByteBuffer()

    let services: Services
    let connection: ConnectionContext
    /// The metrics, the database reader and the kept answers of the connection's loop.
    let counters: Metrics.LoopCounters
    let local: StorePool.LoopReader
    /// The request being answered: since when, and to which endpoint (for the metrics).
    var requestStarted = NIODeadline.now()
    var requestRoute: Route?
    var machine: ConnectionStateMachine
    /// The event stream this connection carries, once it does.
    var sink: EventSink?
    /// The value whose pieces go out now, if any (`GuestConnectionHandler+Sending.swift`), how
    /// many were sent on the connection, and whether `send` runs (and is asked to go on).
    var sending: ValueStream?
    var streams = 0
    /// The request held until its answer changes, if one is (`+Holding.swift`).
    var held: Held?
    var inSend = false
    var sendAgain = false
    private var parser: RequestParser
    /// Bytes read and not yet taken by a request.
    private var unread = noBytes
    var needsFlush = false
    /// The one timer for both clocks (`GuestConnectionHandler+Deadlines.swift`), and when it fires.
    var timer: NIOScheduledCallback?
    var timerDeadline = NIODeadline.distantFuture

    /// Bytes of the first request were there on accept (`Admission.requestArrived`).
    private let requestArrived: Bool

    /// Made on the connection's loop.
    init(services: Services, connection: ConnectionContext, requestArrived: Bool, loop: EventLoop) {
        self.services = services
        self.connection = connection
        self.requestArrived = requestArrived
        self.counters = services.metrics.on(loop)
        self.local = services.stores.local(on: loop)
        self.parser = RequestParser(limits: services.limits.request)
        self.machine = ConnectionStateMachine(clocks: services.limits.clocks, now: .now())
    }

    /// The clock starts now unless the first request is already there to be read (`Admission`):
    /// then it starts only if the request proves partial, or once it is answered.
    func channelActive(context: ChannelHandlerContext) {
        if !requestArrived { armTimer(context: context) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard machine.takesBytes else { return }
        var bytes = unwrapInboundIn(data)
        if unread.readableBytes == 0 { unread = bytes } else { unread.writeBuffer(&bytes) }
        serve(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded(context: context)
        if context.channel.isActive { armTimer(context: context) }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if machine.readRequested(writable: context.channel.isWritable) { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            if sending == nil { resume(context: context) } else { send(context: context) }
        }
        context.fireChannelWritabilityChanged()
    }

    /// The daemon stopping, or the instance deleted or re-attached (see
    /// `ConnectionStateMachine.notice`). A re-attached instance keeps an idle connection only
    /// if its process is still the instance's (a request in flight is checked as every request
    /// is). A stream ends, or checks itself, through its sink.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        let notice: ConnectionStateMachine.Notice
        switch event {
        case is HeldRequests.Check: return recheckHeld(force: false, context: context)
        case is ChannelShouldQuiesceEvent: notice = .quiesce
        case let change as InstanceChange: notice = change == .changed ? .instanceChanged : .instanceDeleted
        default: return context.fireUserInboundEventTriggered(event)
        }
        switch machine.notice(notice, partial: parser.isPartial(unread), now: .now()) {
        case .none:
            break
        case .close:
            context.close(promise: nil)
        case .rearm:
            armTimer(context: context)
        case .toStream:
            guard let sink else { break }
            if let change = event as? InstanceChange { sink.instanceChanged(change) } else { sink.end(.shutdown) }
        case .checkIdentity:
            let store = local.reader()
            if (try? connection.instance(host: services.host, store: store)) == nil { context.close(promise: nil) }
        case .answerHeld:
            recheckHeld(force: true, context: context)
        case .recheckHeld:
            recheckHeld(force: false, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        releaseHold(context: context)
        stopSending(context: context)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    // MARK: Requests

    /// Answers the requests that are whole, in order, while the peer keeps reading.
    private func serve(context: ChannelHandlerContext) {
        parsing: while machine.mayAnswer(writable: context.channel.isWritable) {
            switch parser.next(&unread) {
            case .needMore:
                if machine.waiting(partial: parser.isPartial(unread), now: .now()) { armTimer(context: context) }
                break parsing
            case .request(let request):
                machine.requestTaken()
                answer(request, context: context)
            case .failure(let failure):
                requestStarted = .now()
                let response = failure.response
                let now = record(nil, status: Int(response.status.code), bytes: response.bodyBytes, context: context)
                respond(response, minorVersion: 1, withBody: true, keepAlive: false, at: now, context: context)
            }
        }
        // Let go of the read buffer, so that NIO can reuse it.
        if unread.readableBytes == 0 { unread = Self.noBytes }
    }

    /// Goes on after an answer that waited: pipelined requests, then reading.
    func resume(context: ChannelHandlerContext) {
        serve(context: context)
        flushIfNeeded(context: context)
        armTimer(context: context)
        if machine.resumed(writable: context.channel.isWritable) { context.read() }
    }

    private func answer(_ request: GuestRequest, context: ChannelHandlerContext) {
        requestStarted = .now()
        requestRoute = nil
        /// For the log line of a failure, once the caller's instance is known.
        var instanceName: String?
        do {
            let store = local.reader()
            let answers = local.answers
            // An answer given in this revision is given again, once the caller is checked as
            // every caller is: no path to parse, no head to write.
            if store.inSnapshot, let id = connection.match?.instanceID,
                let kept = answers.answer(to: request, instanceID: id, revision: store.revision)
            {
                requestRoute = kept.route
                try connection.check(host: services.host, store: store)
                return respond(kept, to: request, context: context)
            }
            requestRoute = Route(path: request.path)
            guard let route = requestRoute else { throw GuestError.pageNotFound }
            let instance = try connection.instance(host: services.host, store: store)
            instanceName = instance.name
            if let handshake = request.webSocket, route == .events, request.method == .GET {
                return try upgrade(request, handshake, instance: instance, store: store, context: context)
            }
            if let wait = try GuestAPI.wait(route, request) {
                return hold(request, route: route, wait: wait, context: context)
            }
            let current = RequestContext(instance: instance, store: store, stores: services.stores, loop: context.eventLoop)
            switch try services.api.answer(route, request, current) {
            case .now(let response):
                // Kept, it goes out as the bytes the next requests of its form will share.
                if store.inSnapshot,
                    let kept = answers.keep(response, route: route, for: request, instanceID: instance.id, revision: store.revision)
                {
                    return respond(kept, to: request, context: context)
                }
                respond(response, to: request, context: context)
            case .later(let future):
                machine.answerDeferred()
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                future.whenComplete { result in
                    let (handler, context) = bound.value
                    handler.machine.answerArrived()
                    handler.respond(
                        handler.response(for: result, on: context.eventLoop, instance: instance.name), to: request, context: context)
                    handler.resume(context: context)
                }
            }
        } catch {
            respond(response(for: .failure(error), on: context.eventLoop, instance: instanceName), to: request, context: context)
        }
    }

    /// `GET /1.0/events` asking to upgrade: the same checks as a plain stream (a pruned
    /// `since` is 410 before any upgrade), then 101 and the WebSocket handlers take over.
    private func upgrade(
        _ request: GuestRequest, _ handshake: GuestRequest.WebSocketHandshake, instance: GuestInstance,
        store: Store, context: ChannelHandlerContext
    ) throws {
        guard instance.apiEnabled else { throw GuestError.forbidden }
        let accept = try WebSocketUpgrade.accept(handshake, minorVersion: request.minorVersion)
        let subscription = try EventSubscription(request: request, instance: instance, store: store)
        record(request, status: 101, bytes: 0, context: context)
        machine.streamStarted()
        cancelTimer()
        var head = context.channel.allocator.buffer(capacity: 160)
        head.writeStaticString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: ")
        head.writeString(accept)
        head.writeStaticString("\r\n\r\n")
        context.writeAndFlush(wrapOutboundOut(head), promise: nil)
        do {
            try WebSocketUpgrade.addHandlers(
                to: context.pipeline.syncOperations, subscription: subscription, services: services,
                connection: connection)
        } catch {
            context.close(promise: nil)
            return
        }
        // What came after the handshake is the client's first frames.
        if unread.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(unread)) }
        unread = Self.noBytes
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
