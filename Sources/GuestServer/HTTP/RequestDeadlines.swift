import NIOCore
import NIOHTTP1

/// Enforces SPEC.md section 6 at the byte level, before the HTTP decoder: an idle keep-alive
/// connection is closed after 30 s; a request must arrive whole (its head, and its body, at
/// most 64 KiB, with it) within 3 s of its first byte; its head may be at most 16 KiB.
///
/// The body shares the head's deadline: otherwise a client that announces a body and never
/// sends it would hold the connection for ever.
///
/// The HTTP handler tells it where requests end and where answers end with outbound user
/// events, since only it can see the request's framing.
final class RequestDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent by the HTTP handler: a whole request arrived / a response was fully written.
    enum Signal: Sendable { case requestReceived, responseComplete }

    struct Limits: Sendable {
        var requestTimeout: TimeAmount = .seconds(3)
        var idleTimeout: TimeAmount = .seconds(30)
        var maxHeadBytes = 16 * 1024
    }

    private enum State {
        /// Between requests: the idle deadline runs.
        case idle
        /// A request began and its head has not ended: the request deadline runs.
        case head(HeadScanner)
        /// The head ended; the rest of the request (its body) is on its way.
        case body
        /// The whole request is in: the handler answers; no deadline.
        case answering
        /// The head was too large: the connection is being closed, nothing more is read.
        case refused
    }

    private let limits: Limits
    private var state = State.idle
    private var timer: Scheduled<Void>?

    init(limits: Limits) { self.limits = limits }

    func channelActive(context: ChannelHandlerContext) {
        arm(limits.idleTimeout, context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .idle = state {
            state = .head(HeadScanner(limit: limits.maxHeadBytes))
            arm(limits.requestTimeout, context: context)
        }
        if case .head(var scanner) = state {
            switch scanner.scan(unwrapInboundIn(data).readableBytesView) {
            case .needMore:
                state = .head(scanner)
            case .complete:
                state = .body
            case .tooLarge:
                state = .refused
                cancelTimer()
                // Answered as the decoder answers a head over its own limits: a 400 from
                // NIO's error handler, then the connection handler closes.
                context.fireErrorCaught(HTTPParserError.headerOverflow)
                return
            }
        }
        if case .refused = state { return }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let signal = event as? Signal else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        switch (signal, state) {
        case (_, .refused):
            break
        case (.requestReceived, _):
            state = .answering
            cancelTimer()
        case (.responseComplete, _):
            state = .idle
            arm(limits.idleTimeout, context: context)
        }
        promise?.succeed()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    private func arm(_ delay: TimeAmount, context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: delay) { channel.close(promise: nil) }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }
}
