import GuestJSON
import GuestStore
import NIOCore

/// A journal entry in its wire form or forms, encoded once and shared by every subscriber
/// that sends it (immutable, so Sendable).
///
/// The tailer's live events carry both forms, since subscribers of both modes may share an
/// instance; a replay encodes only the form its one subscriber sends. An entry whose values
/// are large (read without them: `JournalEntry.leftOut`) is not encoded whole: its text is
/// kept as parts, the values to be read and escaped a piece at a time as it is sent
/// (`EventSink+Large.swift`), so that however large, an event never costs a subscriber more
/// than a piece of it.
struct EncodedEvent: Sendable {
    let id: Int
    let instanceID: Int
    let kind: JournalEntry.Kind
    private let plain: ByteBuffer?
    private let withID: ByteBuffer?
    /// The parts of a large event's forms (nil for one encoded whole).
    private let largePlain: [LargePart]?
    private let largeWithID: [LargePart]?

    /// A part of a large event: text as it is, or one of its entry's values, escaped as a JSON
    /// string's contents or (a device's config) as it is.
    enum LargePart: Sendable {
        case text(ByteBuffer)
        case value(JournalValue, escaped: Bool)
    }

    /// Entries whose values together have more bytes than this are sent in pieces.
    static let wholeUpTo = 64 << 10

    /// Both forms: for live fan-out. `fileEpoch`: the file the entry was read from.
    init(_ entry: JournalEntry, fileEpoch: Int) {
        self.init(entry, plain: true, withID: true, fileEpoch: fileEpoch)
    }

    /// Only the form with ids (replay mode) or without.
    init(_ entry: JournalEntry, withID: Bool, fileEpoch: Int) {
        self.init(entry, plain: !withID, withID: withID, fileEpoch: fileEpoch)
    }

    private init(_ entry: JournalEntry, plain: Bool, withID: Bool, fileEpoch: Int) {
        id = entry.id
        instanceID = entry.instanceID
        kind = entry.kind
        if let sizes = entry.leftOut {
            self.plain = nil
            self.withID = nil
            largePlain = plain ? Self.parts(entry, sizes: sizes, withID: false, fileEpoch: fileEpoch) : nil
            largeWithID = withID ? Self.parts(entry, sizes: sizes, withID: true, fileEpoch: fileEpoch) : nil
        } else {
            self.plain = plain ? Self.encode(entry, withID: false) : nil
            self.withID = withID ? Self.encode(entry, withID: true) : nil
            largePlain = nil
            largeWithID = nil
        }
    }

    var isLarge: Bool { largePlain != nil || largeWithID != nil }

    /// The frame or chunk to send; traps if this form was not encoded, or the event is large
    /// (programmer mistakes).
    func payload(withID: Bool) -> ByteBuffer {
        withID ? self.withID! : plain!
    }

    /// A large event's parts, in this form; traps if it was not made.
    func parts(withID: Bool) -> [LargePart] {
        withID ? largeWithID! : largePlain!
    }

    /// What the event holds in memory in this form (a large one, its text alone).
    func bytes(withID: Bool) -> Int {
        guard isLarge else { return payload(withID: withID).readableBytes }
        return parts(withID: withID).reduce(0) { sum, part in
            if case .text(let text) = part { return sum + text.readableBytes }
            return sum
        }
    }

    private static func encode(_ entry: JournalEntry, withID: Bool) -> ByteBuffer {
        var json = JSONWriter(capacity: 208)
        entry.writeEvent(into: &json, withID: withID)
        return ByteBuffer(bytes: json.bytes)
    }

    private static func parts(_ entry: JournalEntry, sizes: JournalEntry.ValueSizes, withID: Bool, fileEpoch: Int) -> [LargePart] {
        entry.eventParts(withID: withID).map { part in
            switch part {
            case .text(let text): .text(ByteBuffer(bytes: text))
            case .value(let old, let escaped):
                .value(JournalValue(id: entry.id, old: old, size: old ? sizes.old : sizes.new, fileEpoch: fileEpoch), escaped: escaped)
            }
        }
    }
}
