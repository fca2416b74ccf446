import GuestHTTP
import GuestStore
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves one guest connection: frames its requests (`RequestParser`), answers them one at
/// a time and in order, and writes each answer as one buffer. Identity was resolved on
/// accept; `ConnectionContext` carries it.
///
/// SPEC.md section 6 on the connection: a request must arrive whole within 3 s of its
/// first byte, an idle keep-alive connection closes after 30 s, malformed HTTP gets a 4xx
/// and the connection closed. Both clocks share one timer, armed once and moved on when it
/// fires early, so that a keep-alive request costs a clock read, not a timer.
///
/// Back-pressure: while the peer has not read earlier answers, or an answer is on its way,
/// nothing more is read and no pipelined request is answered, so a peer that never reads
/// cannot make the daemon queue answers for it.
final class GuestConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The clocks and sizes of SPEC.md section 6.
    struct Limits: Sendable {
        var requestTimeout = TimeAmount.seconds(3)
        var idleTimeout = TimeAmount.seconds(30)
        var request = RequestParser.Limits()
    }

    private enum State {
        /// Reading requests and answering them as they come.
        case reading
        /// An answer is on its way (a state change waits for the writer).
        case answering
        /// The connection carries an event stream now; what the peer sends is dropped.
        case streaming
        /// The last answer is written; the connection closes once it is sent.
        case closing
    }

    private static let noBytes = ByteBuffer()

    private let services: Services
    private let connection: ConnectionContext
    /// The request being answered: since when, and to which endpoint (for the metrics).
    private var requestStarted = NIODeadline.now()
    private var requestRoute: Route?
    /// Requests taken so far.
    private var answered = 0
    /// The event stream this connection carries, once it does.
    private var sink: EventSink?
    private var parser: RequestParser
    /// Bytes read and not yet taken by a request.
    private var unread = noBytes
    private var state = State.reading
    /// The daemon is stopping, or the instance ended: the request in flight is answered, then
    /// the connection closes.
    private var stopping = false
    /// A read was held back for back-pressure.
    private var readHeld = false
    private var needsFlush = false
    /// Since when the connection has waited for a request, and since when for the rest of one.
    private var idleSince = NIODeadline.now()
    private var requestSince: NIODeadline?
    private var timer: NIOScheduledCallback?
    private var timerDeadline = NIODeadline.distantFuture

    init(services: Services, connection: ConnectionContext) {
        self.services = services
        self.connection = connection
        self.parser = RequestParser(limits: services.limits.request)
    }

    func channelActive(context: ChannelHandlerContext) {
        idleSince = .now()
        armTimer(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state == .reading || state == .answering else { return }
        var bytes = unwrapInboundIn(data)
        if unread.readableBytes == 0 { unread = bytes } else { unread.writeBuffer(&bytes) }
        serve(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded(context: context)
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if state == .answering || (state == .reading && !context.channel.isWritable) {
            readHeld = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { resume(context: context) }
        context.fireChannelWritabilityChanged()
    }

    /// The daemon stopping, or the instance deleted: the request in flight (or half read) is
    /// answered first, or cut by its deadline, then the connection closes. A re-attached
    /// instance keeps an idle connection only if its process is still the instance's (a
    /// request in flight is checked as every request is). A stream ends through its sink.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent:
            guard let sink else { return finish(context: context) }
            sink.end(.shutdown)
        case let change as InstanceChange:
            if let sink { return sink.instanceChanged(change) }
            guard change == .changed else { return finish(context: context) }
            guard state == .reading && !parser.isPartial(unread) else { return }
            let store = services.stores.reader(on: context.eventLoop)
            if (try? services.instance(for: connection, store: store)) == nil { context.close(promise: nil) }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// A connection that has answered requests and waits for none closes now; one just made
    /// gets its first request answered (its bytes may be on their way: the client connected to
    /// be answered), within the request deadline.
    private func finish(context: ChannelHandlerContext) {
        stopping = true
        if answered > 0 && state == .reading && !parser.isPartial(unread) { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    // MARK: Requests

    /// Answers the requests that are whole, in order, while the peer keeps reading.
    private func serve(context: ChannelHandlerContext) {
        parsing: while state == .reading && context.channel.isWritable {
            switch parser.next(&unread) {
            case .needMore:
                if requestSince == nil && parser.isPartial(unread) {
                    requestSince = .now()
                    armTimer(context: context)
                }
                break parsing
            case .request(let request):
                requestSince = nil
                answered += 1
                answer(request, context: context)
            case .failure(let failure):
                requestStarted = .now()
                let response = failure.response
                record(nil, status: Int(response.status.code), bytes: response.bodyBytes, context: context)
                respond(response, minorVersion: 1, withBody: true, keepAlive: false, context: context)
            }
        }
        // Let go of the read buffer, so that NIO can reuse it.
        if unread.readableBytes == 0 { unread = Self.noBytes }
    }

    /// Goes on after an answer that waited: pipelined requests, then reading.
    private func resume(context: ChannelHandlerContext) {
        serve(context: context)
        flushIfNeeded(context: context)
        armTimer(context: context)
        if readHeld && state != .answering && context.channel.isWritable {
            readHeld = false
            context.read()
        }
    }

    private func answer(_ request: GuestRequest, context: ChannelHandlerContext) {
        requestStarted = .now()
        requestRoute = Route(path: request.path)
        do {
            guard let route = requestRoute else { throw GuestError.pageNotFound }
            let store = services.stores.reader(on: context.eventLoop)
            let instance = try services.instance(for: connection, store: store)
            if let handshake = request.webSocket, route == .events, request.method == .GET {
                return try upgrade(request, handshake, instance: instance, store: store, context: context)
            }
            let answers = services.stores.answers(on: context.eventLoop)
            if store.inSnapshot, let known = answers.answer(to: request, instanceID: instance.id, revision: store.revision) {
                return respond(known, to: request, context: context)
            }
            switch try services.api.answer(route, request, instance: instance, store: store,
                                           stores: services.stores, loop: context.eventLoop) {
            case .now(let response):
                if store.inSnapshot { answers.keep(response, for: request, instanceID: instance.id, revision: store.revision) }
                respond(response, to: request, context: context)
            case .later(let future):
                state = .answering
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                future.whenComplete { result in
                    let (handler, context) = bound.value
                    handler.state = .reading
                    handler.respond(handler.response(for: result, on: context.eventLoop), to: request, context: context)
                    handler.resume(context: context)
                }
            }
        } catch {
            respond(response(for: .failure(error), on: context.eventLoop), to: request, context: context)
        }
    }

    /// `GET /1.0/events` asking to upgrade: the same checks as a plain stream (a pruned
    /// `since` is 410 before any upgrade), then 101 and the WebSocket handlers take over.
    private func upgrade(_ request: GuestRequest, _ handshake: GuestRequest.WebSocketHandshake, instance: GuestInstance,
                         store: Store, context: ChannelHandlerContext) throws {
        guard instance.apiEnabled else { throw GuestError.forbidden }
        let accept = try WebSocketUpgrade.accept(handshake, minorVersion: request.minorVersion)
        let subscription = try EventSubscription(request: request, instance: instance, store: store)
        record(request, status: 101, bytes: 0, context: context)
        state = .streaming
        cancelTimer()
        var head = context.channel.allocator.buffer(capacity: 160)
        head.writeStaticString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: ")
        head.writeString(accept)
        head.writeStaticString("\r\n\r\n")
        context.writeAndFlush(wrapOutboundOut(head), promise: nil)
        do {
            try WebSocketUpgrade.addHandlers(to: context.pipeline.syncOperations, subscription: subscription, services: services,
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

    // MARK: Answers

    private func response(for result: Result<GuestResponse, Error>, on loop: EventLoop) -> GuestResponse {
        switch result {
        case .success(let response): return response
        case .failure(let error as GuestError): return error.response
        case .failure(let error):
            services.logger.error("request failed", metadata: ["error": "\(error)"])
            services.metrics.on(loop).databaseErrors += 1
            return GuestError.internalError.response
        }
    }

    private func respond(_ response: GuestResponse, to request: GuestRequest, context: ChannelHandlerContext) {
        record(request, status: Int(response.status.code), bytes: response.bodyBytes, context: context)
        respond(response, minorVersion: request.minorVersion, withBody: request.method != .HEAD,
                keepAlive: request.keepAlive, context: context)
    }

    /// Counts the answer, and at debug level says it (the access log).
    private func record(_ request: GuestRequest?, status: Int, bytes: Int, context: ChannelHandlerContext) {
        let seconds = Double((NIODeadline.now() - requestStarted).nanoseconds) / 1e9
        let endpoint = request == nil ? .malformed : Metrics.Endpoint(requestRoute)
        services.metrics.request(endpoint, status: status, seconds: seconds, on: context.eventLoop)
        guard services.logger.logLevel <= .debug else { return }
        let instance = connection.match.flatMap { try? services.stores.reader(on: context.eventLoop).guestInstance(id: $0.instanceID)?.name }
        services.logger.debug("request", metadata: [
            "method": "\(request?.method.rawValue ?? "-")", "path": "\(request.map { String($0.path) } ?? "-")", "status": "\(status)",
            "instance": "\(instance ?? "none")", "bytes": "\(bytes)", "us": "\(Int(seconds * 1e6))",
        ])
    }

    private func respond(_ response: GuestResponse, minorVersion: Int, withBody: Bool, keepAlive: Bool,
                         context: ChannelHandlerContext) {
        // Unidentified callers get one answer; so does anyone asking to close.
        let keepAlive = keepAlive && connection.match != nil && !stopping
        var head = ResponseHead(status: response.status, minorVersion: minorVersion, contentType: response.contentType,
                                fields: response.fields, framing: .length(0), keepAlive: keepAlive)
        // Completed when the answer's last byte is written: set when something waits for that.
        let written: EventLoopPromise<Void>? = keepAlive ? nil : context.eventLoop.makePromise()
        switch response.body {
        case .bytes(let bytes):
            head.framing = .length(bytes.count)
            var buffer = context.channel.allocator.buffer(capacity: 128 + head.fields.count * 64 + bytes.count)
            head.write(into: &buffer)
            if withBody { buffer.writeBytes(bytes) }
            context.write(wrapOutboundOut(buffer), promise: written)
        case .file(let path, let offset, let length):
            guard let file = try? NIOFileHandle(_deprecatedPath: path) else {
                written?.succeed()
                return respond(GuestError.internalError.response, minorVersion: minorVersion, withBody: withBody,
                               keepAlive: false, context: context)
            }
            head.framing = .length(length)
            var buffer = context.channel.allocator.buffer(capacity: 256)
            head.write(into: &buffer)
            guard withBody && length > 0 else {
                try? file.close()
                context.write(wrapOutboundOut(buffer), promise: written)
                break
            }
            context.write(wrapOutboundOut(buffer), promise: nil)
            // Streamed from the file by the kernel; the handle lives until the write is done.
            let region = context.eventLoop.makePromise(of: Void.self)
            region.futureResult.whenComplete { _ in try? file.close() }
            written.map { region.futureResult.cascade(to: $0) }
            let fileRegion = FileRegion(fileHandle: file, readerIndex: offset, endIndex: offset + length)
            context.write(NIOAny(IOData.fileRegion(fileRegion)), promise: region)
        case .events(let subscription):
            // HTTP/1.1 streams chunked; HTTP/1.0 has no chunks, so its stream ends at the close.
            head.framing = .stream
            head.keepAlive = keepAlive && minorVersion == 1
            var buffer = context.channel.allocator.buffer(capacity: 128)
            head.write(into: &buffer)
            guard withBody else {
                context.write(wrapOutboundOut(buffer), promise: written)
                break
            }
            written?.succeed()
            state = .streaming
            cancelTimer()
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
            let transport: EventSink.Transport = minorVersion == 1 ? .chunked : .plain
            let sink = EventSink(channel: context.channel, subscription: subscription, transport: transport, services: services,
                                 connection: connection)
            self.sink = sink
            sink.start()
            return
        }
        needsFlush = true
        idleSince = .now()
        if let written {
            state = .closing
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            flushIfNeeded(context: context)
        }
    }

    private func flushIfNeeded(context: ChannelHandlerContext) {
        guard needsFlush else { return }
        needsFlush = false
        context.flush()
    }

    // MARK: Deadlines

    /// When the connection closes unless something happens; nil while an answer is on its
    /// way or a stream runs. A closing connection gets the idle time to take its last answer.
    private var deadline: NIODeadline? {
        switch state {
        case .reading: requestSince.map { $0 + services.limits.requestTimeout } ?? idleSince + services.limits.idleTimeout
        case .closing: idleSince + services.limits.idleTimeout
        case .answering, .streaming: nil
        }
    }

    private func armTimer(context: ChannelHandlerContext) {
        guard let deadline, timer == nil || deadline < timerDeadline else { return }
        timer?.cancel()
        timerDeadline = deadline
        // A callback, not a task: no promise and future made for every connection.
        timer = try? context.eventLoop.assumeIsolated().scheduleCallback(at: deadline, handler: DeadlineCheck(handler: self, context: context))
    }

    /// Calls back `timerFired` when the timer goes off.
    private struct DeadlineCheck: NIOScheduledCallbackHandler {
        let handler: GuestConnectionHandler
        let context: ChannelHandlerContext

        func handleScheduledCallback(eventLoop: some EventLoop) {
            handler.timer = nil
            handler.timerFired(context: context)
        }

        func didCancelScheduledCallback(eventLoop: some EventLoop) {}
    }

    private func timerFired(context: ChannelHandlerContext) {
        guard let deadline else { return }  // armed again when the answer is out
        if deadline <= .now() {
            context.close(promise: nil)
        } else {
            armTimer(context: context)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }
}

extension RequestParser.Failure {
    var response: GuestResponse {
        switch self {
        case .malformed: .text(.badRequest, "malformed request")
        case .headTooLarge: .text(.requestHeaderFieldsTooLarge, "request head too large")
        case .bodyTooLarge: .text(.payloadTooLarge, "request body too large")
        }
    }
}
