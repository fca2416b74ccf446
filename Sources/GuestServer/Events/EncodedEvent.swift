import GuestStore
import NIOCore

/// A journal entry in its two wire forms, encoded once on the tailer and shared by every
/// subscriber (immutable, so Sendable).
struct EncodedEvent: Sendable {
    let id: Int
    let instanceID: Int
    let kind: JournalEntry.Kind
    let plain: ByteBuffer
    let withID: ByteBuffer

    init(_ entry: JournalEntry) {
        id = entry.id
        instanceID = entry.instanceID
        kind = entry.kind
        var json = JSONWriter(capacity: 192)
        entry.writeEvent(into: &json, withID: false)
        plain = ByteBuffer(bytes: json.bytes)
        json = JSONWriter(capacity: 208)
        entry.writeEvent(into: &json, withID: true)
        withID = ByteBuffer(bytes: json.bytes)
    }
}
