import GuestJSON
import GuestStore
import NIOCore

/// A large event (`EncodedEvent.isLarge`) sent in pieces: its text, and its entry's values read
/// a piece at a time from a reader of the loop's `ValueReaders` (which holds the entry's
/// snapshot) and escaped as they go, the next piece only once the last is written. However
/// large its values, a subscriber holds one piece of one event; a WebSocket gets the event as
/// one message in fragments, a plain stream as chunks of one line.
extension EventSink {
    /// Where a large event's sending stands.
    struct LargeSending {
        let event: EncodedEvent
        let parts: [EncodedEvent.LargePart]
        /// The part being sent, and how far into its value.
        var part = 0
        var offset = 0
        /// A value's escaping, across its pieces.
        var escaper = JSONStringEscaper()
        var reader: Store?
        /// The value being read is begun on the reader.
        var begun = false
        var waiting = false
        /// Nothing is written yet (the first fragment opens the message).
        var first = true
    }

    /// Raw bytes of a value read at a time (escaped, at most six times as many go out).
    static let piece = 64 << 10

    func startLarge(_ event: EncodedEvent) {
        large = LargeSending(event: event, parts: event.parts(withID: subscription.withIDs))
        sendLarge()
    }

    /// Lets go of the reader, or the place in line (the event is out, or the stream ended).
    func stopLarge() {
        guard let sending = large else { return }
        large = nil
        let readers = services.stores.local(on: eventLoop).values
        if let reader = sending.reader {
            readers.release(reader, for: instanceID)
        } else if sending.waiting {
            readers.cancel(ObjectIdentifier(self), for: instanceID)
        }
    }

    /// Sends the next pieces; false only when no reader is free (it then waits in line).
    @discardableResult
    private func sendLarge() -> Bool {
        guard var sending = large, !closed else { return true }
        if sending.reader == nil {
            let readers = services.stores.local(on: eventLoop).values
            do {
                guard let reader = try readers.acquire(for: instanceID) else {
                    if !sending.waiting {
                        large?.waiting = true
                        readers.wait(for: instanceID, token: ObjectIdentifier(self)) { [weak self] in
                            guard let self, self.large != nil, !self.closed else { return true }
                            return self.sendLarge()
                        }
                    }
                    return false
                }
                sending.reader = reader
                sending.waiting = false
            } catch {
                return failLarge(error)
            }
        }
        var texts = channel.allocator.buffer(capacity: 256)
        while sending.part < sending.parts.count {
            switch sending.parts[sending.part] {
            case .text(var text):
                texts.writeBuffer(&text)
                sending.part += 1
            case .value(let value, let escaped):
                guard value.size > 0 else {
                    sending.part += 1
                    continue
                }
                do {
                    guard let piece = try nextPiece(of: value, escaped: escaped, &sending) else {
                        // Its entry was pruned since the event was read: it cannot be sent whole.
                        large = sending
                        end(.pruned(after: machine.lastSent))
                        return true
                    }
                    texts.writeImmutableBuffer(piece)
                } catch {
                    large = sending
                    return failLarge(error)
                }
                // One piece at a time: the next once this one is written.
                let isFirst = sending.first
                sending.first = false
                large = sending
                let written = eventLoop.makePromise(of: Void.self)
                written.futureResult.whenSuccess { [self] in sendLarge() }
                writeFragment(texts, first: isFirst, last: false, promise: written)
                channel.flush()
                return true
            }
        }
        // The last text closes the event.
        writeFragment(texts, first: sending.first, last: true, promise: nil)
        channel.flush()
        large = sending
        stopLarge()
        counters.eventsDelivered += 1
        perform(machine.largeSent(sending.event.id))
        return true
    }

    /// The next piece of a value, escaped if it goes in a JSON string; nil when its entry is gone.
    private func nextPiece(of value: JournalValue, escaped: Bool, _ sending: inout LargeSending) throws -> ByteBuffer? {
        guard let reader = sending.reader else { preconditionFailure("a piece read without a reader") }
        if !sending.begun {
            guard try reader.beginValue(.journal(value)) else { return nil }
            sending.begun = true
        }
        let size = min(Self.piece, value.size - sending.offset)
        var raw = [UInt8](repeating: 0, count: size)
        try raw.withUnsafeMutableBytes { try reader.readValue(offset: sending.offset, into: $0) }
        sending.offset += size
        let last = sending.offset == value.size
        var out: [UInt8] = []
        if escaped {
            out.reserveCapacity(size + size / 8)
            raw.withUnsafeBytes { sending.escaper.escape($0, last: last, into: &out) }
        } else {
            out = raw
        }
        if last {
            reader.endValue()
            (sending.begun, sending.offset, sending.escaper) = (false, 0, JSONStringEscaper())
            sending.part += 1
        }
        return ByteBuffer(bytes: out)
    }

    private func failLarge(_ error: Error) -> Bool {
        services.logger.error("reading an event's value failed", metadata: ["error": "\(error)"])
        stopLarge()
        channel.close(promise: nil)
        return true
    }
}
