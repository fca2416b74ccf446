import GuestHTTP

/// One parameter of a request's query string, read strictly.
enum QueryParameter {
    /// The first `name=` parameter's value, decoded and checked: `minimum` to `limit` bytes of
    /// printable ASCII (space included). A malformed escape is an error, never a value taken
    /// as sent.
    static func value(_ name: String, in target: String, limit: Int, minimum: Int = 1) throws(ParameterError) -> String? {
        guard let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard PercentDecoding.decode(parts[0].utf8) == Array(name.utf8) else { continue }
            let raw = parts.count > 1 ? parts[1] : ""
            guard let bytes = PercentDecoding.decode(raw.utf8), (minimum...limit).contains(bytes.count),
                bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
            else {
                throw ParameterError(
                    name: name, value: String(decoding: PercentDecoding.decode(raw.utf8) ?? Array(raw.utf8), as: UTF8.self))
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        return nil
    }
}
