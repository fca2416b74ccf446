import ASCIINumbers

/// A `Range: bytes=…` request (RFC 9110 section 14.1.2) against a file of a given size.
public enum ByteRange: Equatable, Sendable {
    /// Send the whole file, 200: no usable range asked for one part (several ranges are served
    /// whole, which the RFC allows, rather than as multipart).
    case whole
    /// Send these bytes (inclusive offsets), 206.
    case part(start: Int, end: Int)
    /// 416.
    case unsatisfiable

    /// Malformed: 416. Else the ranges past the end drop out (RFC 9110 section 14.1.1: a
    /// set is satisfiable if any of its ranges is); none left: 416.
    public init(_ header: String, size: Int) {
        guard header.hasPrefix("bytes=") else {
            self = .unsatisfiable
            return
        }
        var ranges: [ByteRange] = []
        for spec in header.dropFirst("bytes=".count).split(separator: ",", omittingEmptySubsequences: false) {
            guard let range = Self.range(String(spec), size: size) else {
                self = .unsatisfiable
                return
            }
            ranges.append(range)
        }
        let satisfiable = ranges.filter { $0 != .unsatisfiable }
        self = satisfiable.isEmpty ? .unsatisfiable : ranges.count == 1 ? satisfiable[0] : .whole
    }

    /// One `first-last`, `first-` or `-suffix`: nil when malformed, `.unsatisfiable` when it
    /// starts past the end (or asks for the last 0 bytes).
    private static func range(_ spec: String, size: Int) -> ByteRange? {
        let spec = spec.trimmingWhitespace()
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash].trimmingWhitespace()
        let last = spec[spec.index(after: dash)...].trimmingWhitespace()
        if first.isEmpty {
            guard let suffix = position(last) else { return nil }
            return suffix > 0 && size > 0 ? .part(start: size - min(suffix, size), end: size - 1) : .unsatisfiable
        }
        guard let start = position(first), let end = last.isEmpty ? Int.max : position(last), end >= start else { return nil }
        return start < size ? .part(start: start, end: min(end, size - 1)) : .unsatisfiable
    }

    /// Decimal digits, saturating at `Int.max`: a position past any file is still a position.
    private static func position(_ digits: String) -> Int? {
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0.decimalDigitValue != nil }) else { return nil }
        return Int(ascii: digits.utf8) ?? Int.max
    }
}

extension StringProtocol {
    /// Without spaces and tabs at either end.
    fileprivate func trimmingWhitespace() -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: blank).reversed().drop(while: blank).reversed())
    }
}
