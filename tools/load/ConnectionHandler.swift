import NIOCore

/// Drives one connection for its `Worker`: writes the request, waits for the
/// whole response, then writes the next one (keep-alive mode) or closes
/// (churn mode). There is never more than one request in flight on a
/// connection, as with a client that needs each answer before it goes on, so
/// latency is what such a client sees and throughput comes from the number of
/// connections, not from pipelining.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let worker: Worker
    private var parser = ResponseParser()
    /// The start of a response that arrived split across reads.
    private var carried: ByteBuffer?
    /// When the request now in flight was started; nil while idle.
    private var inFlightSince: NIODeadline?
    private let firstRequestStartedAt: NIODeadline
    /// Why the connection is being abandoned, for the error report.
    private var failure: String?

    /// `firstRequestStartedAt` lets churn mode count the connect as part of the first request.
    init(worker: Worker, firstRequestStartedAt: NIODeadline) {
        self.worker = worker
        self.firstRequestStartedAt = firstRequestStartedAt
    }

    // Added once the connection is up, so the first request can go out now.
    func handlerAdded(context: ChannelHandlerContext) {
        send(context: context, startedAt: firstRequestStartedAt)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var previous = carried {
            carried = nil  // drop our reference first so the append does not copy
            previous.writeBuffer(&buffer)
            buffer = previous
        }

        let response: ResponseParser.Response?
        do {
            response = try parser.parse(&buffer)
        } catch {
            // The request stays in flight, so channelInactive counts it as failed.
            fail("\(error)", context: context)
            return
        }
        guard let response else {
            if buffer.readableBytes > 0 {
                carried = buffer
            }
            return
        }
        guard buffer.readableBytes == 0 else {
            // We never pipeline, so bytes after a response are garbage from the
            // server; the request stays in flight and is counted as failed.
            fail("unexpected bytes after a complete response", context: context)
            return
        }
        complete(response, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if inFlightSince != nil {
            if let response = parser.endOfInput() {
                complete(response, context: context)
            } else {
                worker.recordTransportError(failure ?? "connection closed before the response was complete")
            }
            inFlightSince = nil
        }
        context.fireChannelInactive()
    }

    // Resets and the like: channelInactive follows and does the counting.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail("\(error)", context: context)
    }

    private func fail(_ reason: String, context: ChannelHandlerContext) {
        failure = failure ?? reason
        context.close(promise: nil)
    }

    private func send(context: ChannelHandlerContext, startedAt: NIODeadline) {
        inFlightSince = startedAt
        context.writeAndFlush(wrapOutboundOut(worker.plan.request), promise: nil)
    }

    private func complete(_ response: ResponseParser.Response, context: ChannelHandlerContext) {
        guard let startedAt = inFlightSince else { return }
        inFlightSince = nil
        worker.recordResponse(status: response.status, startedAt: startedAt)
        if response.keepAlive && worker.reusesConnections && !worker.isFinished {
            send(context: context, startedAt: .now())
        } else if context.channel.isActive {
            context.close(promise: nil)
        }
    }
}
