import Foundation

/// Reading events as a guest receives them: exact text, timestamps aside.
enum GuestEvent {
    /// RFC 3339 in UTC with up to nanosecond precision, as Go's RFC3339Nano prints it.
    static var timestamp: Regex<(Substring, Substring?)> { #/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z/# }

    /// The message with its timestamp value replaced by `<timestamp>`, when (and only when) it
    /// is a valid RFC 3339 timestamp: compare the rest exactly.
    static func masked(_ message: String) -> String {
        message.replacing(#/"timestamp":"(?<value>[^"]*)"/#) { match in
            match.output.value.wholeMatch(of: timestamp) != nil ? #""timestamp":"<timestamp>""# : String(match.output.0)
        }
    }

    /// The `"id"` a replay-mode event carries, when it ends the object as the contract says.
    static func id(_ message: String) -> Int? {
        guard message.hasPrefix("{"), message.hasSuffix("}\n"),
            let key = message.range(of: #","id":"#, options: .backwards)
        else { return nil }
        return Int(message[key.upperBound..<message.index(message.endIndex, offsetBy: -2)])
    }

    /// The message as JSON, for comparing with the journal whatever the key order.
    static func parse(_ message: String) throws -> JSONValue { try JSONValue.parse(Array(message.utf8)) }
}

extension JournalRecord {
    /// What a guest may see: `user.*` config and devices.
    var isGuestVisible: Bool { Self.isGuestVisible(type: type, key: key) }

    static func isGuestVisible(type: String, key: String?) -> Bool {
        type == "device" || (type == "config" && key?.hasPrefix("user.") == true)
    }

    /// The event a guest receives for this entry; `withID` in replay mode.
    func event(withID: Bool) -> JSONValue {
        var event: [String: JSONValue] = ["type": .string(type), "timestamp": .string(timestamp), "metadata": metadata]
        if withID { event["id"] = .number(Double(id)) }
        return .object(event)
    }
}
