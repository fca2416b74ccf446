import GuestStore
import NIOCore

/// Where a large value's answer stands: what is left to send, on which reader, and whether the
/// connection stays open after it.
struct ValueStream {
    let value: StoredValue
    /// The next byte of the value to send, and the end (exclusive).
    var next: Int
    let end: Int
    let keepAlive: Bool
    /// The instance whose share of the loop's `ValueReaders` it takes.
    let instanceID: Int
    /// The reader holding the value's snapshot, once it has one.
    var reader: Store?
    /// It waits for a reader (and is in its line once only).
    var waiting = false

    /// Sent a piece at a time: at most one piece waits in memory beyond NIO's write buffer.
    static let piece = GuestResponse.wholeValueLimit
}

/// A large value's body, sent a piece at a time as the peer reads: each piece read, when the
/// socket wants more, from a reader of the loop's `ValueReaders` that holds the value's
/// snapshot (so every piece is of one committed value, and costs only its own pages). A value
/// changed between its lookup and its first piece closes the connection: the client, whose
/// answer fell short of its Content-Length, asks again. A peer that takes nothing keeps its
/// reader, and its snapshot, for the idle time at most (`ConnectionStateMachine`).
extension GuestConnectionHandler {
    func startSending(_ body: GuestResponse.ValueBody, keepAlive: Bool, at now: NIODeadline, context: ChannelHandlerContext) {
        sending = ValueStream(value: body.value, next: body.offset, end: body.offset + body.length, keepAlive: keepAlive,
                              instanceID: connection.match?.instanceID ?? 0)
        machine.sendingStarted(now: now)
        armTimer(context: context)
        send(context: context)
    }

    /// Sends pieces while the peer takes them. False only when no reader is free: the stream
    /// then waits in its line, and is asked again once one is.
    @discardableResult
    func send(context: ChannelHandlerContext) -> Bool {
        guard var stream = sending, context.channel.isActive else { return true }
        let readers = local.values
        if stream.reader == nil {
            do {
                guard let reader = try readers.acquire(for: stream.instanceID) else {
                    if !stream.waiting {
                        sending?.waiting = true
                        readers.wait(for: stream.instanceID) { [weak self] in
                            guard let self, self.sending != nil, context.channel.isActive else { return true }
                            let done = self.send(context: context)
                            if done { self.sending?.waiting = false }
                            return done
                        }
                    }
                    context.flush()
                    return false
                }
                stream.reader = reader
                sending = stream
                guard try reader.beginValue(stream.value) else {
                    // Changed since its head was written: the client gets less than it was told.
                    stopSending(context: context)
                    context.close(promise: nil)
                    return true
                }
            } catch {
                return failSending(error, context: context)
            }
        }
        while let reader = stream.reader, stream.next < stream.end, context.channel.isWritable {
            let size = min(ValueStream.piece, stream.end - stream.next)
            var buffer = context.channel.allocator.buffer(capacity: size)
            do {
                try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { space in
                    try reader.readValue(offset: stream.next, into: UnsafeMutableRawBufferPointer(rebasing: space[..<size]))
                    return size
                }
            } catch {
                return failSending(error, context: context)
            }
            stream.next += size
            sending = stream
            machine.sendingProgressed(now: .now())
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
        context.flush()
        if stream.next == stream.end { finishSending(stream, context: context) }
        return true
    }

    /// Lets go of the stream and its reader (on an ending, or a closing connection).
    func stopSending(context: ChannelHandlerContext) {
        guard let stream = sending else { return }
        sending = nil
        if let reader = stream.reader { local.values.release(reader, for: stream.instanceID) }
    }

    private func failSending(_ error: Error, context: ChannelHandlerContext) -> Bool {
        services.logger.error("reading a value failed", metadata: ["error": "\(error)"])
        counters.databaseErrors += 1
        stopSending(context: context)
        context.close(promise: nil)
        return true
    }

    /// The last piece is queued: the connection goes on to the next request, or closes once
    /// the piece is out.
    private func finishSending(_ stream: ValueStream, context: ChannelHandlerContext) {
        stopSending(context: context)
        machine.sendingFinished(keepAlive: stream.keepAlive, now: .now())
        guard machine.state == .reading else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                channel.close(promise: nil)
            }
            return
        }
        resume(context: context)
    }
}
