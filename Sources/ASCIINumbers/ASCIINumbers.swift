/// Numbers in ASCII, read from bytes someone else wrote (an HTTP header, a query, /proc, an
/// environment variable, JSON) and written without making a String. One copy for every target:
/// this one depends on nothing.

extension Int {
    /// A non-negative decimal number of ASCII digits only: nil when empty, for any other
    /// byte (a sign included), or past `Int.max`.
    @inlinable
    public init?(ascii: some Collection<UInt8>) {
        guard !ascii.isEmpty else { return nil }
        var value = 0
        for byte in ascii {
            guard let digit = byte.decimalDigitValue else { return nil }
            let (times, overflowTimes) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowSum) = times.addingReportingOverflow(Int(digit))
            guard !overflowTimes, !overflowSum else { return nil }
            value = sum
        }
        self = value
    }
}

extension UInt8 {
    /// The value of an ASCII decimal digit; nil for any other byte.
    @inlinable
    public var decimalDigitValue: UInt8? {
        self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") ? self - UInt8(ascii: "0") : nil
    }

    /// The value of an ASCII hex digit, either case; nil for any other byte.
    @inlinable
    public var hexDigitValue: UInt8? {
        switch self {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): self - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): self - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): self - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

public enum DecimalDigits {
    /// Hands `body` the digits of `value`, zero-padded to at least `width` (at most 20), from
    /// a buffer on the stack.
    @inlinable
    public static func withDigits<T>(of value: UInt, width: Int = 1, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: any UInt fits
        return try withUnsafeMutableBytes(of: &scratch) { buffer in
            var rest = value
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0 || buffer.count - start < min(width, 20)
            return try body(UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
    }
}
