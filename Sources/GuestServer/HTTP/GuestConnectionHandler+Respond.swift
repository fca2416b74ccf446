import GuestHTTP
import GuestRoutes
import GuestStore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Writing answers: each as one buffer (or a head and a file region), counted and, at debug
/// level, logged.
extension GuestConnectionHandler {
    /// `instance`: the caller's instance's name, when known, for the log line of a failure.
    func response(for result: Result<GuestResponse, Error>, on loop: EventLoop, instance: String? = nil) -> GuestResponse {
        switch result {
        case .success(let response): return response
        case .failure(let error as GuestError): return error.response
        case .failure(let error):
            var metadata: Logger.Metadata = ["error": "\(error)"]
            if let instance { metadata["instance"] = "\(instance)" }
            services.logger.error("request failed", metadata: metadata)
            counters.databaseErrors += 1
            return GuestError.internalError.response
        }
    }

    func respond(_ response: GuestResponse, to request: GuestRequest, context: ChannelHandlerContext) {
        if response.minted != nil { counters.tokensMinted += 1 }
        let now = record(request, status: Int(response.status.code), bytes: response.bodyBytes, minted: response.minted, context: context)
        respond(
            response, minorVersion: request.minorVersion, withBody: request.method != .HEAD,
            keepAlive: request.keepAlive, at: now, context: context)
    }

    /// Counts the answer, and at debug level says it (the access log). Returns the time it
    /// was answered.
    @discardableResult
    func record(
        _ request: GuestRequest?, status: Int, bytes: Int, minted: (audience: String, jti: String)? = nil, context: ChannelHandlerContext
    ) -> NIODeadline {
        let now = NIODeadline.now()
        let seconds = Double((now - requestStarted).nanoseconds) / 1e9
        let endpoint = request == nil ? .malformed : Metrics.Endpoint(requestRoute)
        counters.request(endpoint, status: status, seconds: seconds)
        guard services.logger.logLevel <= .debug else { return now }
        let instance = connection.match.flatMap { try? local.reader().guestInstance(id: $0.instanceID)?.name }
        AccessLog.request(
            request, status: status, instance: instance, bytes: bytes, seconds: seconds, minted: minted, logger: services.logger)
        return now
    }

    /// An answer kept from earlier in this revision (`AnswerCache`), written as the same bytes
    /// as the last request of its form got.
    func respond(_ kept: AnswerCache.Kept, to request: GuestRequest, context: ChannelHandlerContext) {
        let now = record(request, status: Int(kept.response.status.code), bytes: kept.response.bodyBytes, context: context)
        let withBody = request.method != .HEAD
        let keepAlive = machine.keepsAlive(requested: request.keepAlive, identified: connection.match != nil)
        let bytes = kept.bytes(minorVersion: request.minorVersion, withBody: withBody, keepAlive: keepAlive) {
            kept.response.encoded(
                minorVersion: request.minorVersion, withBody: withBody, keepAlive: keepAlive,
                allocator: context.channel.allocator)
        }
        let written: EventLoopPromise<Void>? = keepAlive ? nil : context.eventLoop.makePromise()
        context.write(wrapOutboundOut(bytes), promise: written)
        sent(written, at: now, context: context)
    }

    /// `now`: when it was answered (for the idle clock).
    func respond(
        _ response: GuestResponse, minorVersion: Int, withBody: Bool, keepAlive: Bool, at now: NIODeadline,
        context: ChannelHandlerContext
    ) {
        // Unidentified callers get one answer; so does anyone asking to close.
        let keepAlive = machine.keepsAlive(requested: keepAlive, identified: connection.match != nil)
        var head = ResponseHead(
            status: response.status, minorVersion: minorVersion, contentType: response.contentType,
            fields: response.fields, framing: .length(0), keepAlive: keepAlive)
        // Completed when the answer's last byte is written: set when something waits for that.
        let written: EventLoopPromise<Void>? = keepAlive ? nil : context.eventLoop.makePromise()
        switch response.body {
        case .bytes:
            let buffer = response.encoded(
                minorVersion: minorVersion, withBody: withBody, keepAlive: keepAlive,
                allocator: context.channel.allocator)
            context.write(wrapOutboundOut(buffer), promise: written)
        case .file(let path, let offset, let length):
            guard let file = try? NIOFileHandle(_deprecatedPath: path) else {
                written?.succeed()
                return respond(
                    GuestError.internalError.response, minorVersion: minorVersion, withBody: withBody,
                    keepAlive: false, at: now, context: context)
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
        case .value(let body):
            head.framing = .length(body.count)
            var buffer = context.channel.allocator.buffer(capacity: 256 + body.prefix.count)
            head.write(into: &buffer)
            guard withBody else {
                context.write(wrapOutboundOut(buffer), promise: written)
                break
            }
            buffer.writeBytes(body.prefix)
            written?.succeed()
            context.write(wrapOutboundOut(buffer), promise: nil)
            return startSending(body, keepAlive: keepAlive, at: now, context: context)
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
            machine.streamStarted()
            cancelTimer()
            // The sink listens before the head goes out: a client that saw the head gets every
            // event committed after it.
            context.write(wrapOutboundOut(buffer), promise: nil)
            let transport: EventSink.Transport = minorVersion == 1 ? .chunked : .plain
            let sink = EventSink(
                channel: context.channel, subscription: subscription, transport: transport, services: services,
                connection: connection)
            self.sink = sink
            sink.start()
            context.flush()
            return
        }
        sent(written, at: now, context: context)
    }

    /// An answer's bytes are queued: they go out with the read's end, or at once when the
    /// connection closes after them (`written`, completed with their last byte).
    private func sent(_ written: EventLoopPromise<Void>?, at now: NIODeadline, context: ChannelHandlerContext) {
        needsFlush = true
        machine.answered(keepAlive: written == nil, now: now)
        if let written {
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            flushIfNeeded(context: context)
        }
    }

    func flushIfNeeded(context: ChannelHandlerContext) {
        guard needsFlush else { return }
        needsFlush = false
        context.flush()
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
