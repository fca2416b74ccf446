import Foundation

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
    private func writeEvent(into json: inout JSONWriter, withID: Bool,
                            value: (inout JSONWriter, _ old: Bool, _ escaped: Bool) -> Void) {
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

extension JSONWriter {
    /// `JournalEntry.rfc3339(nanoseconds:)`'s text, unquoted. Done by hand rather than with
    /// gmtime and String(format:), which cost most of an event's encoding in a replay: the
    /// date comes from the day number by Howard Hinnant's `civil_from_days`.
    mutating func rfc3339(nanoseconds: Int) {
        let seconds = nanoseconds / 1_000_000_000
        var fraction = nanoseconds % 1_000_000_000  // negative before 1970: not shown, as before
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // March is 0
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        digits(UInt(year), width: 4)
        raw("-")
        digits(UInt(month), width: 2)
        raw("-")
        digits(UInt(day), width: 2)
        raw("T")
        digits(UInt(secondOfDay / 3600), width: 2)
        raw(":")
        digits(UInt(secondOfDay / 60 % 60), width: 2)
        raw(":")
        digits(UInt(secondOfDay % 60), width: 2)
        if fraction > 0 {
            var width = 9
            while fraction % 10 == 0 {
                fraction /= 10
                width -= 1
            }
            raw(".")
            digits(UInt(fraction), width: width)
        }
        raw("Z")
    }
}
