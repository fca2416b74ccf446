import NIOCore

/// Enforces SPEC.md section 6 at the byte level, before the HTTP decoder: an idle keep-alive
/// connection is closed after 30 s, and a request head must arrive whole within 3 s of its
/// first byte and within a bounded number of bytes.
///
/// The HTTP handler tells it where requests begin and end with outbound user events, since
/// only it can see where a head ends.
final class RequestDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent by the HTTP handler: a whole head arrived / a response was fully written.
    enum Signal: Sendable { case headReceived, responseComplete }

    struct Limits: Sendable {
        var headTimeout: TimeAmount = .seconds(3)
        var idleTimeout: TimeAmount = .seconds(30)
        /// Bytes that may arrive before a head is complete (a head, plus a body sent with it).
        var maxBytesBeforeHead = 16 * 1024 + 64 * 1024
    }

    private enum State { case idle, readingHead(bytes: Int), inRequest }

    private let limits: Limits
    private var state = State.idle
    private var timer: Scheduled<Void>?

    init(limits: Limits) { self.limits = limits }

    func channelActive(context: ChannelHandlerContext) {
        arm(limits.idleTimeout, context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let count = unwrapInboundIn(data).readableBytes
        switch state {
        case .idle:
            state = .readingHead(bytes: count)
            arm(limits.headTimeout, context: context)
        case .readingHead(let bytes):
            state = .readingHead(bytes: bytes + count)
        case .inRequest:
            break
        }
        if case .readingHead(let bytes) = state, bytes > limits.maxBytesBeforeHead {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let signal = event as? Signal else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        switch signal {
        case .headReceived:
            state = .inRequest
            timer?.cancel()
            timer = nil
        case .responseComplete:
            state = .idle
            arm(limits.idleTimeout, context: context)
        }
        promise?.succeed()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    private func arm(_ delay: TimeAmount, context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: delay) { channel.close(promise: nil) }
    }
}
