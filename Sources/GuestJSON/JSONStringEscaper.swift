/// The contents of a JSON string (without its quotes) from bytes that should be UTF-8, escaped
/// as Go's encoder does with HTML escaping off: a quote, a backslash, a control character, a
/// line or paragraph separator; invalid UTF-8 becomes U+FFFD, one for each maximal invalid
/// part, as `String(decoding:as:)` repairs it.
///
/// Fed in pieces (a large value read a piece at a time), it gives the same text however the
/// bytes are cut: a multibyte sequence that a piece's end may cut is held back and taken with
/// the next piece. `JSONWriter` writes every string through it.
public struct JSONStringEscaper: Sendable {
    /// The start of a sequence the next piece may complete (at most 3 bytes).
    private var pending: [UInt8] = []

    public init() {}

    /// Escapes `piece`, appending to `out`; `last`: nothing follows (what is held back is
    /// taken now, as invalid if it is incomplete).
    public mutating func escape(_ piece: UnsafeRawBufferPointer, last: Bool, into out: inout [UInt8]) {
        guard !pending.isEmpty else { return escapeKeepingTheEnd(piece, last: last, into: &out) }
        let joined = pending + piece
        pending = []
        joined.withUnsafeBytes { escapeKeepingTheEnd($0, last: last, into: &out) }
    }

    private mutating func escapeKeepingTheEnd(_ bytes: UnsafeRawBufferPointer, last: Bool, into out: inout [UInt8]) {
        let kept = Self.held(in: bytes, last: last)
        Self.escapeWhole(UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count - kept)]), into: &out)
        if kept > 0 { pending = Array(bytes.suffix(kept)) }
    }

    /// How many bytes at the end may be the start of a sequence the next piece ends: from the
    /// last lead byte within three of the end, if its sequence needs more bytes than follow it.
    private static func held(in bytes: UnsafeRawBufferPointer, last: Bool) -> Int {
        guard !last else { return 0 }
        var index = bytes.count - 1
        while index >= 0 && index >= bytes.count - 3 && bytes[index] & 0xC0 == 0x80 { index -= 1 }
        guard index >= 0 && index >= bytes.count - 3 else { return 0 }
        let lead = bytes[index]
        let length = lead >= 0xF0 && lead <= 0xF7 ? 4 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xC0 && lead <= 0xDF ? 2 : 1
        return length > bytes.count - index ? bytes.count - index : 0
    }

    /// Escapes bytes none of which starts a sequence they cut.
    private static func escapeWhole(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        // Most values are ASCII: copied in runs, escaping byte by byte. Anything else goes
        // through Unicode scalars, which also replaces invalid UTF-8.
        guard bytes.allSatisfy({ $0 < 0x80 }) else {
            var iterator = bytes.makeIterator()
            var parser = Unicode.UTF8.ForwardParser()
            while true {
                switch parser.parseScalar(from: &iterator) {
                case .valid(let encoded): append(Unicode.UTF8.decode(encoded), to: &out)
                case .error: append("\u{FFFD}", to: &out)
                case .emptyInput: return
                }
            }
        }
        var run = 0
        for (i, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[run..<i]))
            escape(Unicode.Scalar(byte), into: &out)
            run = i + 1
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[run...]))
    }

    private static func append(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
        if scalar.value < 0x20 || scalar == "\"" || scalar == "\\" || scalar == "\u{2028}" || scalar == "\u{2029}" {
            escape(scalar, into: &out)
        } else {
            UTF8.encode(scalar) { out.append($0) }
        }
    }

    /// A character JSON cannot hold as it is: a quote, a backslash, a control character, or a
    /// line or paragraph separator (which JavaScript cannot).
    private static func escape(_ scalar: Unicode.Scalar, into out: inout [UInt8]) {
        switch scalar {
        case "\"": out.append(contentsOf: "\\\"".utf8)
        case "\\": out.append(contentsOf: "\\\\".utf8)
        case "\n": out.append(contentsOf: "\\n".utf8)
        case "\r": out.append(contentsOf: "\\r".utf8)
        case "\t": out.append(contentsOf: "\\t".utf8)
        case "\u{2028}": out.append(contentsOf: "\\u2028".utf8)
        case "\u{2029}": out.append(contentsOf: "\\u2029".utf8)
        default:
            out.append(contentsOf: "\\u00".utf8)
            out.append(hex[Int(scalar.value >> 4)])
            out.append(hex[Int(scalar.value & 0xf)])
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)
}
