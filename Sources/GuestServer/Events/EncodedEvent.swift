import GuestStore
import NIOCore

/// A journal entry in its wire form or forms, encoded once and shared by every subscriber
/// that sends it (immutable, so Sendable).
///
/// The tailer's live events carry both forms, since subscribers of both modes may share an
/// instance; a replay encodes only the form its one subscriber sends.
struct EncodedEvent: Sendable {
    let id: Int
    let instanceID: Int
    let kind: JournalEntry.Kind
    private let plain: ByteBuffer?
    private let withID: ByteBuffer?

    /// Both forms: for live fan-out.
    init(_ entry: JournalEntry) {
        self.init(entry, plain: true, withID: true)
    }

    /// Only the form with ids (replay mode) or without.
    init(_ entry: JournalEntry, withID: Bool) {
        self.init(entry, plain: !withID, withID: withID)
    }

    private init(_ entry: JournalEntry, plain: Bool, withID: Bool) {
        id = entry.id
        instanceID = entry.instanceID
        kind = entry.kind
        self.plain = plain ? Self.encode(entry, withID: false) : nil
        self.withID = withID ? Self.encode(entry, withID: true) : nil
    }

    /// The frame or chunk to send; traps if this form was not encoded (a programmer mistake).
    func payload(withID: Bool) -> ByteBuffer {
        withID ? self.withID! : plain!
    }

    private static func encode(_ entry: JournalEntry, withID: Bool) -> ByteBuffer {
        var json = JSONWriter(capacity: 208)
        entry.writeEvent(into: &json, withID: withID)
        return ByteBuffer(bytes: json.bytes)
    }
}
