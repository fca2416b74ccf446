import ASCIINumbers

/// The query parameters of `GET /1.0/events` (README, "Events and replay"), parsed strictly: a guest's
/// text never reaches arithmetic or an error message unchecked.
public enum EventQuery {
    /// Where a stream starts.
    public enum Since: Equatable, Sendable {
        /// `since=now`: live, with ids.
        case now
        /// `since=<id>`: replay everything after the id, then live.
        case id(Int)
    }

    /// `type`: a comma list; empty means config and device; unknown names never match and are
    /// not an error; lifecycle is never for guests.
    public static func kinds(_ text: String?) -> Set<EventKind> {
        let names = (text ?? "").isEmpty ? ["config", "device"] : (text ?? "").split(separator: ",").map(String.init)
        return Set(names.compactMap(EventKind.init(rawValue:)))
    }

    /// `since`: absent, `now`, or decimal digits only (no sign, no space) that fit an Int.
    public static func since(_ text: String?) throws(ParameterError) -> Since? {
        guard let text else { return nil }
        if text == "now" { return .now }
        guard let id = Int(ascii: text.utf8) else { throw ParameterError(name: "since", value: text) }
        return .id(id)
    }

    /// The event types a guest may ask for.
    public enum EventKind: String, Sendable {
        case config, device
    }
}

/// A query parameter a guest sent that is not what the endpoint takes.
public struct ParameterError: Error, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// The message, with the value shown safely: printable ASCII as it is, any other byte
    /// escaped, and cut short, so that a guest's bytes never become control bytes in a reply.
    public var message: String {
        var shown = ""
        for byte in value.utf8.prefix(64) {
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") && byte != UInt8(ascii: "\"") {
                shown.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                shown += "\\x" + String(byte, radix: 16, uppercase: false).leftPadded(to: 2)
            }
        }
        if value.utf8.count > 64 { shown += "…" }
        return "invalid \(name) \"\(shown)\""
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: Swift.max(0, width - count)) + self
    }
}
