import GuestStore
import NIOCore

/// Where a large value's answer stands: what is left to send, on which reader, and whether the
/// connection stays open after it.
struct ValueStream {
    /// Tells this answer from a later one on the same connection (pipelined).
    let id: Int
    let value: StoredValue
    /// The next byte of the value to send, and the end (exclusive).
    var next: Int
    let end: Int
    let keepAlive: Bool
    /// The instance whose share of the loop's `ValueReaders` it takes.
    let instanceID: Int
    /// The reader holding the value's snapshot, once it has one.
    var reader: Store?
    /// It waits in its instance's line for a reader.
    var waiting = false

    /// Sent a piece at a time: at most one piece waits in memory beyond NIO's write buffer.
    static let piece = GuestResponse.wholeValueLimit
}

/// A large value's body, sent a piece at a time as the peer reads: each piece read, when the
/// socket wants more, from a reader of the loop's `ValueReaders` that holds the value's
/// snapshot (so every piece is of one committed value, and costs only its own pages). A value
/// changed between its lookup and its first piece closes the connection: the client, whose
/// answer fell short of its Content-Length, asks again. The whole body must go within the idle
/// time (`ConnectionStateMachine`), so no peer keeps a reader, and its snapshot, for longer.
extension GuestConnectionHandler {
    func startSending(_ body: GuestResponse.ValueBody, keepAlive: Bool, at now: NIODeadline, context: ChannelHandlerContext) {
        streams += 1
        sending = ValueStream(
            id: streams, value: body.value, next: body.offset, end: body.offset + body.length,
            keepAlive: keepAlive, instanceID: connection.match?.instanceID ?? 0)
        machine.sendingStarted(now: now)
        armTimer(context: context)
        send(context: context)
    }

    /// Sends pieces while the peer takes them. False only when no reader is free: the stream
    /// then waits in its line, and is asked again once one is. A flush may report the socket
    /// writable again and call this anew: that call only asks the running one to go on.
    @discardableResult
    func send(context: ChannelHandlerContext) -> Bool {
        guard !inSend else {
            sendAgain = true
            return true
        }
        inSend = true
        defer { inSend = false }
        var sent: Bool
        repeat {
            sendAgain = false
            sent = sendPieces(context: context)
        } while sendAgain && sending != nil
        return sent
    }

    private func sendPieces(context: ChannelHandlerContext) -> Bool {
        guard var stream = sending, context.channel.isActive else { return true }
        if stream.reader == nil {
            switch takeReader(&stream, context: context) {
            case .some(let ready): guard ready else { return false }
            case .none: return true
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
                failSending(error, context: context)
                return true
            }
            stream.next += size
            sending = stream
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
        context.flush()
        // The flush may have run the next request's answer (a nested call finished this one).
        guard sending?.id == stream.id else { return true }
        if stream.next == stream.end { finishSending(stream, context: context) }
        return true
    }

    /// A reader for the stream, with its value begun: true when it has one, false when it must
    /// wait (it is in line), nil when the stream ended (its value changed, or reading failed).
    private func takeReader(_ stream: inout ValueStream, context: ChannelHandlerContext) -> Bool? {
        let readers = local.values
        do {
            guard let reader = try readers.acquire(for: stream.instanceID) else {
                if !stream.waiting {
                    stream.waiting = true
                    sending = stream
                    let id = stream.id
                    readers.wait(for: stream.instanceID, token: ObjectIdentifier(self)) { [weak self] in
                        guard let self, self.sending?.id == id, context.channel.isActive else { return true }
                        guard self.send(context: context) else { return false }
                        if self.sending?.id == id { self.sending?.waiting = false }
                        return true
                    }
                }
                context.flush()
                return false
            }
            stream.reader = reader
            stream.waiting = false
            sending = stream
            guard try reader.beginValue(.config(stream.value)) else {
                // Changed since its head was written: the client gets less than it was told.
                stopSending(context: context)
                context.close(promise: nil)
                return nil
            }
            return true
        } catch {
            failSending(error, context: context)
            return nil
        }
    }

    /// Lets go of the stream: its reader, or its place in line (on an ending, or a closing
    /// connection).
    func stopSending(context: ChannelHandlerContext) {
        guard let stream = sending else { return }
        sending = nil
        if let reader = stream.reader {
            local.values.release(reader, for: stream.instanceID)
        } else if stream.waiting {
            local.values.cancel(ObjectIdentifier(self), for: stream.instanceID)
        }
    }

    private func failSending(_ error: Error, context: ChannelHandlerContext) {
        services.logger.error("reading a value failed", metadata: ["error": "\(error)"])
        counters.databaseErrors += 1
        stopSending(context: context)
        context.close(promise: nil)
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
