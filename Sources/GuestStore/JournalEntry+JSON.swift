import Foundation

/// The JSON shapes of journal entries: Incus's event shape for guests, plus the host's view.
extension JournalEntry {
    /// `{"type":…,"timestamp":…,"metadata":{…}}`, with `"id"` last when `withID` (replay mode), and a newline.
    public func writeEvent(into json: inout JSONWriter, withID: Bool) {
        json.raw("{\"type\":")
        json.string(kind.rawValue)
        json.raw(",\"timestamp\":")
        json.string(Self.rfc3339(nanoseconds: timestampNs))
        json.raw(",\"metadata\":")
        writeMetadata(into: &json)
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
        json.raw(",\"timestamp\":")
        json.string(Self.rfc3339(nanoseconds: timestampNs))
        json.raw(",\"instance\":")
        json.string(instance)
        json.raw(",\"type\":")
        json.string(kind.rawValue)
        json.raw(",\"metadata\":")
        writeMetadata(into: &json)
        json.raw("}\n")
    }

    public func writeMetadata(into json: inout JSONWriter) {
        switch kind {
        case .config:
            json.raw("{\"key\":")
            json.string(name ?? "")
            json.raw(",\"old_value\":")
            json.string(utf8: oldValue ?? [])
            json.raw(",\"value\":")
            json.string(utf8: value ?? [])
            json.raw("}")
        case .device:
            json.raw("{\"action\":")
            json.string(action ?? "")
            json.raw(",\"config\":")
            // Stored canonical (compact, sorted keys), so it is spliced as it is.
            json.raw(value ?? Array("{}".utf8))
            json.raw(",\"name\":")
            json.string(name ?? "")
            json.raw("}")
        case .lifecycle:
            json.raw("{\"action\":")
            json.string(action ?? "")
            if let value, !value.isEmpty {
                json.raw(",\"pid\":")
                json.string(utf8: value)
            }
            json.raw("}")
        }
    }

    /// RFC 3339 in UTC with nanoseconds, trailing zeros trimmed as Go's RFC3339Nano does.
    public static func rfc3339(nanoseconds: Int) -> String {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        let fraction = nanoseconds % 1_000_000_000
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                          parts.tm_hour, parts.tm_min, parts.tm_sec)
        if fraction > 0 {
            var digits = String(format: "%09d", fraction)
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text + "Z"
    }
}
