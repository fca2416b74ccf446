import GuestStore
import NIOCore

/// Where a large value's answer stands: what is left to send, and whether the connection
/// stays open after it.
struct ValueStream {
    let value: StoredValue
    /// The next byte of the value to send, and the end (exclusive).
    var next: Int
    let end: Int
    let keepAlive: Bool
    /// The instance whose share of the loop's `BodyBudget` it draws on.
    let instanceID: Int
    /// It waits for room in the budget (and is in its line once only).
    var waiting = false

    /// A piece: at most this, as the budget allows.
    static let piece = GuestResponse.wholeValueLimit
}

/// A large value's body, sent a piece at a time as the peer reads: each piece read from the
/// database in the loop's snapshot of the moment (`Store.readValue`) when the socket wants
/// more and the loop's `BodyBudget` has room. Never held whole, and never a mix: if the value
/// changed between two pieces, the connection closes, and the client, whose answer fell short
/// of its Content-Length, asks again. Nothing holds a database snapshot between pieces.
extension GuestConnectionHandler {
    func startSending(_ body: GuestResponse.ValueBody, keepAlive: Bool, at now: NIODeadline, context: ChannelHandlerContext) {
        sending = ValueStream(value: body.value, next: body.offset, end: body.offset + body.length, keepAlive: keepAlive,
                              instanceID: connection.match?.instanceID ?? 0)
        machine.sendingStarted(now: now)
        armTimer(context: context)
        send(context: context)
    }

    /// Sends pieces while the peer takes them; false when the budget has no room now (the
    /// stream then waits in its line, and is asked again).
    @discardableResult
    func send(context: ChannelHandlerContext) -> Bool {
        let budget = local.bodies
        while var stream = sending, context.channel.isActive {
            guard stream.next < stream.end else { return finishSending(stream, context: context) }
            guard context.channel.isWritable else { break }
            let size = min(ValueStream.piece, stream.end - stream.next)
            guard budget.take(size, for: stream.instanceID) else {
                if !stream.waiting {
                    sending?.waiting = true
                    budget.wait(for: stream.instanceID) { [weak self] in
                        guard let self, self.sending != nil, context.channel.isActive else { return true }
                        let done = self.send(context: context)
                        if done { self.sending?.waiting = false }
                        return done
                    }
                }
                context.flush()
                return false
            }
            var buffer = context.channel.allocator.buffer(capacity: size)
            let offset = stream.next
            let read = Result(catching: {
                try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { space in
                    try local.reader().readValue(stream.value, offset: offset, into: UnsafeMutableRawBufferPointer(rebasing: space[..<size]))
                        ? size : 0
                }
            })
            guard case .success(size) = read else {
                budget.give(size, for: stream.instanceID)
                if case .failure(let error) = read {
                    services.logger.error("reading a value failed", metadata: ["error": "\(error)"])
                    counters.databaseErrors += 1
                }
                // Changed since its head was written: the client gets less than it was told.
                sending = nil
                context.close(promise: nil)
                return true
            }
            stream.next += size
            sending = stream
            machine.sendingProgressed(now: .now())
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in budget.give(size, for: stream.instanceID) }
            context.write(wrapOutboundOut(buffer), promise: written)
        }
        context.flush()
        return true
    }

    /// The last piece is queued: the connection goes on to the next request, or closes once
    /// the piece is out.
    private func finishSending(_ stream: ValueStream, context: ChannelHandlerContext) -> Bool {
        sending = nil
        context.flush()
        machine.sendingFinished(keepAlive: stream.keepAlive, now: .now())
        guard machine.state == .reading else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                channel.close(promise: nil)
            }
            return true
        }
        resume(context: context)
        return true
    }
}
