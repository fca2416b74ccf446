/// Reads a request head from its bytes, advancing past what it took; the grammar it reads is
/// HTTP's (`HTTPGrammar.swift`).
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The byte at the reading position; nil at the end.
    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func take(_ byte: UInt8) -> Bool {
        guard current == byte else { return false }
        index += 1
        return true
    }

    mutating func takeLineEnd() -> Bool {
        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\r"), bytes[index + 1] == UInt8(ascii: "\n") else { return false }
        index += 2
        return true
    }
}
