import Foundation
import GuestJSON

/// The JSON shapes of journal entries: Incus's event shape for guests, plus the host's view.
extension JournalEntry {
    /// `{"type":…,"timestamp":…,"metadata":{…}}`, with `"id"` last when `withID` (replay mode), and a newline.
    public func writeEvent(into json: inout JSONWriter, withID: Bool) {
        writeEvent(into: &json, withID: withID, value: writeValue)
    }

    /// One of the entry's values, where `writeMetadata` puts it.
    private func writeValue(_ json: inout JSONWriter, old: Bool, escaped: Bool) {
        let bytes = old ? oldValue : value
        if escaped { json.stringContents(utf8: bytes ?? []) } else { json.raw(bytes ?? Array("{}".utf8)) }
    }

    /// A part of an event's text: written as it is, or one of the entry's values.
    public enum EventPart: Sendable, Equatable {
        case text([UInt8])
        /// The old value (else the new one): the contents of a JSON string, escaped; or, not
        /// escaped, JSON itself (a device's config).
        case value(old: Bool, escaped: Bool)
    }

    /// The event's text as `writeEvent` writes it, its values left to be written apart (in
    /// pieces, for an entry read without them: `leftOut`).
    public func eventParts(withID: Bool) -> [EventPart] {
        var parts: [EventPart] = []
        var json = JSONWriter()
        writeEvent(into: &json, withID: withID) { json, old, escaped in
            parts.append(.text(json.bytes))
            parts.append(.value(old: old, escaped: escaped))
            json = JSONWriter()
        }
        parts.append(.text(json.bytes))
        return parts
    }

    /// The event, with `value` called where each value goes: one function for both forms.
    private func writeEvent(
        into json: inout JSONWriter, withID: Bool,
        value: (inout JSONWriter, _ old: Bool, _ escaped: Bool) -> Void
    ) {
        json.raw("{\"type\":")
        json.string(kind.rawValue)
        json.raw(",\"timestamp\":\"")
        json.rfc3339(nanoseconds: timestampNs)
        json.raw("\"")
        json.raw(",\"metadata\":")
        writeMetadata(into: &json, value: value)
        if withID {
            json.raw(",\"id\":")
            json.int(id)
        }
        json.raw("}\n")
    }

    /// The host's view for `guestapi-admin journal --json`: the event plus id and instance.
    public func writeRecord(into json: inout JSONWriter) {
        json.raw("{\"id\":")
        json.int(id)
        json.raw(",\"timestamp\":\"")
        json.rfc3339(nanoseconds: timestampNs)
        json.raw("\"")
        json.raw(",\"instance\":")
        json.string(instance)
        json.raw(",\"type\":")
        json.string(kind.rawValue)
        json.raw(",\"metadata\":")
        writeMetadata(into: &json)
        json.raw("}\n")
    }

    public func writeMetadata(into json: inout JSONWriter) {
        writeMetadata(into: &json, value: writeValue)
    }

    /// The metadata, with `value` called where each value goes.
    private func writeMetadata(into json: inout JSONWriter, value: (inout JSONWriter, _ old: Bool, _ escaped: Bool) -> Void) {
        switch kind {
        case .config:
            json.raw("{\"key\":")
            json.string(name ?? "")
            json.raw(",\"old_value\":\"")
            value(&json, true, true)
            json.raw("\",\"value\":\"")
            value(&json, false, true)
            json.raw("\"}")
        case .device:
            json.raw("{\"action\":")
            json.string(action ?? "")
            json.raw(",\"config\":")
            // Stored canonical (compact, sorted keys), so it is spliced as it is.
            value(&json, false, false)
            json.raw(",\"name\":")
            json.string(name ?? "")
            json.raw("}")
        case .lifecycle:
            json.raw("{\"action\":")
            json.string(action ?? "")
            if action == "hook-refused", let name {  // the container that asked
                json.raw(",\"container\":")
                json.string(name)
            } else if action?.hasPrefix("identity-key-") == true, let name {  // the key's id
                json.raw(",\"kid\":")
                json.string(name)
            }
            if let value = self.value, !value.isEmpty {
                json.raw(",\"pid\":")
                json.string(utf8: value)
            }
            json.raw("}")
        }
    }

    /// RFC 3339 in UTC with nanoseconds, trailing zeros trimmed as Go's RFC3339Nano does.
    public static func rfc3339(nanoseconds: Int) -> String {
        var json = JSONWriter(capacity: 32)
        json.rfc3339(nanoseconds: nanoseconds)
        return String(decoding: json.bytes, as: UTF8.self)
    }
}
