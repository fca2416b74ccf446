import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// HTTP's grammar, as the request parser reads it.
extension ByteReader {
    /// One or more token characters (RFC 9110 section 5.6.2).
    mutating func token() -> UnsafeRawBufferPointer? {
        let start = index
        while let byte = current, HTTPBytes.isTokenCharacter(byte) { index += 1 }
        return index > start ? UnsafeRawBufferPointer(rebasing: bytes[start..<index]) : nil
    }

    /// The request target: one or more visible ASCII characters.
    mutating func target() -> String? {
        let start = index
        while let byte = current, byte > 0x20, byte < 0x7F { index += 1 }
        return index > start ? String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self) : nil
    }

    /// `HTTP/1.0` or `HTTP/1.1`: the minor version.
    mutating func version() -> Int? {
        let prefix: StaticString = "HTTP/1."
        guard UnsafeRawBufferPointer(rebasing: bytes[index...]).hasPrefix(prefix) else { return nil }
        index += prefix.utf8CodeUnitCount
        guard let digit = current, digit == UInt8(ascii: "0") || digit == UInt8(ascii: "1") else { return nil }
        index += 1
        return Int(digit - UInt8(ascii: "0"))
    }

    /// A field value up to and including its line end, without surrounding whitespace;
    /// nil when it holds a control byte.
    mutating func fieldValue() -> UnsafeRawBufferPointer? {
        while let byte = current, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { index += 1 }
        let start = index
        var end = index
        while let byte = current, byte != UInt8(ascii: "\r") {
            guard HTTPBytes.isFieldValueByte(byte) else { return nil }
            index += 1
            if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") { end = index }
        }
        guard takeLineEnd() else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// A whole header field line (`name: value` and its CRLF), as the head or a trailer
    /// section has them; false if it is anything else.
    mutating func takeFieldLine() -> Bool {
        token() != nil && take(UInt8(ascii: ":")) && fieldValue() != nil
    }
}

/// Byte classes of HTTP's grammar.
enum HTTPBytes {
    /// tchar: `!#$%&'*+-.^_|~`, digits and letters.
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// Visible characters, space, tab and obs-text; never a control byte.
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\t") || (byte >= 0x20 && byte != 0x7F)
    }
}

extension UnsafeRawBufferPointer {
    /// ASCII case-insensitive comparison with a lowercase literal.
    func equalsLowercased(_ lowercase: StaticString) -> Bool {
        guard count == lowercase.utf8CodeUnitCount else { return false }
        let other = lowercase.utf8Start
        for i in 0..<count where self[i] | (self[i] &- 0x41 < 26 ? 0x20 : 0) != other[i] { return false }
        return true
    }

    /// Byte-for-byte equality with a literal.
    public func equals(_ literal: StaticString) -> Bool {
        count == literal.utf8CodeUnitCount && hasPrefix(literal)
    }

    public func hasPrefix(_ literal: StaticString) -> Bool {
        count >= literal.utf8CodeUnitCount
            && (literal.utf8CodeUnitCount == 0 || memcmp(baseAddress!, literal.utf8Start, literal.utf8CodeUnitCount) == 0)
    }

    public func hasSuffix(_ literal: StaticString) -> Bool {
        count >= literal.utf8CodeUnitCount
            && (literal.utf8CodeUnitCount == 0
                || memcmp(baseAddress! + count - literal.utf8CodeUnitCount, literal.utf8Start, literal.utf8CodeUnitCount) == 0)
    }

    /// Calls `body` with each element of a comma-separated list, without whitespace.
    func forEachListElement(_ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        for end in 0...count where end == count || self[end] == UInt8(ascii: ",") {
            var low = start
            var high = end
            while low < high, self[low] == UInt8(ascii: " ") || self[low] == UInt8(ascii: "\t") { low += 1 }
            while high > low, self[high - 1] == UInt8(ascii: " ") || self[high - 1] == UInt8(ascii: "\t") { high -= 1 }
            if high > low { body(UnsafeRawBufferPointer(rebasing: self[low..<high])) }
            start = end + 1
        }
    }
}

extension HTTPMethod {
    /// A method HTTP defines (NIO's list, which is llhttp's); nil for any other token.
    init?(token: UnsafeRawBufferPointer) {
        // The guest API's own methods without making a String: NIO's lookup compares it with
        // each method in turn, a tenth of a request's parsing.
        if token.equals("GET") {
            self = .GET
            return
        }
        if token.equals("HEAD") {
            self = .HEAD
            return
        }
        if token.equals("PATCH") {
            self = .PATCH
            return
        }
        guard case let method = HTTPMethod(rawValue: String(decoding: token, as: UTF8.self)), !method.isRaw else { return nil }
        self = method
    }

    private var isRaw: Bool {
        if case .RAW = self { return true }
        return false
    }
}
