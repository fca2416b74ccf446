import GuestStore
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves one guest connection: reads a request, resolves its instance, answers it.
final class GuestConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let services: Services
    private let connection: ConnectionContext
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    /// A request is being answered; shutdown waits for it.
    private var inFlight = false
    /// The daemon is stopping: answer what is in flight, then close.
    private var closing = false
    /// A whole request waiting for the peer to read earlier answers: answered now, its answer
    /// would queue in memory behind theirs, for as many requests as the peer pipelines.
    private var waiting: GuestRequest?

    init(services: Services, connection: ConnectionContext) {
        self.services = services
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            body = nil
            // A body announced over the limit is refused before a byte of it is waited for.
            if let length = head.headers.first(name: "content-length"), (Int(length) ?? .max) > services.maxBodyBytes {
                return refuseBody(of: head, context: context)
            }
            self.head = head
        case .body(var chunk):
            guard let head else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > services.maxBodyBytes {
                return refuseBody(of: head, context: context)
            }
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .end:
            guard let head else { return }
            self.head = nil
            context.triggerUserOutboundEvent(RequestDeadlines.Signal.requestReceived, promise: nil)
            let request = GuestRequest(head: head, body: body)
            body = nil
            guard context.channel.isWritable else {
                // The pipelining handler hands over one request at a time: at most one waits.
                inFlight = true
                waiting = request
                return
            }
            handle(request, context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let request = waiting {
            waiting = nil
            handle(request, context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    /// Malformed HTTP: NIO's error handler has answered 400 (when no answer had begun); nothing
    /// after it can be framed, so the connection ends here, whoever the caller is. Other errors
    /// are not the peer's doing or not fatal (a declined WebSocket upgrade is one, and its
    /// request is answered next).
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard error is HTTPParserError else { return context.fireErrorCaught(error) }
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is GuestServer.Shutdown else { return context.fireUserInboundEventTriggered(event) }
        closing = true
        if !inFlight && head == nil { context.close(promise: nil) }
    }

    private func handle(_ request: GuestRequest, context: ChannelHandlerContext) {
        inFlight = true
        do {
            guard let route = Route(path: request.path) else { throw GuestError.pageNotFound }
            let store = services.stores.reader(on: context.eventLoop)
            let instance = try services.instance(for: connection, store: store)
            switch try services.api.answer(route, request, instance: instance, store: store,
                                           stores: services.stores, loop: context.eventLoop) {
            case .now(let response):
                respond(response, to: request.head, context: context)
            case .later(let future):
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                future.whenComplete { result in
                    let (handler, context) = bound.value
                    handler.respond(handler.response(for: result), to: request.head, context: context)
                }
            }
        } catch {
            respond(response(for: .failure(error)), to: request.head, context: context)
        }
    }

    /// 413, and the rest of the request is not read: the connection closes.
    private func refuseBody(of request: HTTPRequestHead, context: ChannelHandlerContext) {
        head = nil
        body = nil
        respond(GuestResponse.text(.payloadTooLarge, "request body too large"), to: request, context: context, close: true)
    }

    private func response(for result: Result<GuestResponse, Error>) -> GuestResponse {
        switch result {
        case .success(let response): return response
        case .failure(let error as GuestError): return error.response
        case .failure(let error):
            services.logger.error("request failed", metadata: ["guestapi.error": "\(error)"])
            return GuestError.internalError.response
        }
    }

    private func respond(_ response: GuestResponse, to request: HTTPRequestHead, context: ChannelHandlerContext, close: Bool = false) {
        // Unidentified callers get one answer; so does anyone asking to close, and a request
        // after which the decoder reads no more.
        let keepAlive = request.isKeepAlive && connection.match != nil && !close && !closing
            && !GuestRequest.stopsTheDecoder(request)
        var head = HTTPResponseHead(version: request.version, status: response.status, headers: response.headers)
        if !keepAlive {
            head.headers.replaceOrAdd(name: "Connection", value: "close")
        } else if request.version.minor == 0 {
            head.headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
        let withBody = request.method != .HEAD
        switch response.body {
        case .bytes(let buffer):
            head.headers.replaceOrAdd(name: "Content-Length", value: String(buffer.readableBytes))
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            if withBody && buffer.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil) }
        case .file(let path, let offset, let length):
            head.headers.replaceOrAdd(name: "Content-Length", value: String(length))
            guard let file = try? NIOFileHandle(_deprecatedPath: path) else {
                return respond(GuestError.internalError.response, to: request, context: context, close: true)
            }
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            guard withBody && length > 0 else {
                try? file.close()
                break
            }
            // Streamed from the file by the kernel; the handle lives until the write is done.
            let written = context.eventLoop.makePromise(of: Void.self)
            context.write(wrapOutboundOut(.body(.fileRegion(FileRegion(fileHandle: file, readerIndex: offset, endIndex: offset + length)))), promise: written)
            written.futureResult.whenComplete { _ in try? file.close() }
        case .events(let subscription):
            guard withBody else {
                // HEAD: the stream's head alone, answered like any other response.
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                break
            }
            return EventStream.start(subscription, head: head, context: context, services: services)
        }
        inFlight = false
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
        if keepAlive {
            context.triggerUserOutboundEvent(RequestDeadlines.Signal.responseComplete, promise: nil)
        } else {
            let channel = context.channel
            promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
