import ASCIINumbers

/// Compact JSON in a fixed field order, escaped as Go's encoder does with HTML escaping off,
/// so guests see exactly what Incus would send. Hand-written because the guest-facing shapes
/// need a field order `JSONEncoder` cannot promise, on paths hot enough to avoid its cost.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 128) { bytes.reserveCapacity(capacity) }

    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func raw(_ text: some Sequence<UInt8>) { bytes.append(contentsOf: text) }

    public mutating func int(_ value: Int) {
        if value < 0 { return bytes.append(contentsOf: String(value).utf8) }
        digits(UInt(value), width: 1)
    }

    /// `value` in decimal, zero-padded to at least `width` digits, without making a String
    /// (replay writes one timestamp and one id per event).
    mutating func digits(_ value: UInt, width: Int) {
        DecimalDigits.withDigits(of: value, width: width) { bytes.append(contentsOf: $0) }
    }

    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { string(utf8Buffer: $0) }
    }

    /// A JSON string from bytes that should be UTF-8; invalid sequences become U+FFFD.
    public mutating func string(utf8 value: [UInt8]) {
        value.withUnsafeBufferPointer { string(utf8Buffer: $0) }
    }

    private mutating func string(utf8Buffer value: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var escaper = JSONStringEscaper()
        escaper.escape(UnsafeRawBufferPointer(value), last: true, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A JSON string's contents, without its quotes (an event's value, between parts of its text).
    public mutating func stringContents(utf8 value: [UInt8]) {
        var escaper = JSONStringEscaper()
        value.withUnsafeBytes { escaper.escape($0, last: true, into: &bytes) }
    }

    /// An object of strings with keys sorted, as Go prints a map.
    public mutating func object(_ map: [String: String]) {
        bytes.append(UInt8(ascii: "{"))
        for (i, key) in map.keys.sorted().enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            string(key)
            bytes.append(UInt8(ascii: ":"))
            string(map[key]!)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// A sorted array of strings.
    public mutating func array(_ items: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            string(item)
        }
        bytes.append(UInt8(ascii: "]"))
    }
}

extension JSONWriter {
    /// `map` as compact JSON text with sorted keys: the canonical form devices are stored in.
    public static func canonical(_ map: [String: String]) -> String {
        var writer = JSONWriter()
        writer.object(map)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
