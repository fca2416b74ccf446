import HostProcess

/// A `Range: bytes=…` request (RFC 9110 section 14.1.2) against a file of a given size.
enum ByteRange: Equatable {
    /// Send the whole file, 200: no usable range asked for one part (several ranges are served
    /// whole, which the RFC allows, rather than as multipart).
    case whole
    /// Send these bytes (inclusive offsets), 206.
    case part(start: Int, end: Int)
    /// 416.
    case unsatisfiable

    init(_ header: String, size: Int) {
        guard header.hasPrefix("bytes="), size > 0 else { self = .unsatisfiable; return }
        let specs = header.dropFirst("bytes=".count).split(separator: ",", omittingEmptySubsequences: false)
        let ranges = specs.map { Self.range(String($0), size: size) }
        guard ranges.allSatisfy({ $0 != nil }) else { self = .unsatisfiable; return }
        self = ranges.count == 1 ? ranges[0]! : .whole
    }

    /// One `first-last`, `first-` or `-suffix`; nil when malformed or past the end.
    private static func range(_ spec: String, size: Int) -> ByteRange? {
        let spec = spec.trimmingWhitespace()
        guard let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash].trimmingWhitespace(), last = spec[spec.index(after: dash)...].trimmingWhitespace()
        if first.isEmpty {
            guard let suffix = Int(ascii: last.utf8), suffix > 0 else { return nil }
            return .part(start: size - min(suffix, size), end: size - 1)
        }
        guard let start = Int(ascii: first.utf8), start < size else { return nil }
        if last.isEmpty { return .part(start: start, end: size - 1) }
        guard let end = Int(ascii: last.utf8), end >= start else { return nil }
        return .part(start: start, end: min(end, size - 1))
    }
}

extension StringProtocol {
    /// Without spaces and tabs at either end.
    fileprivate func trimmingWhitespace() -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: blank).reversed().drop(while: blank).reversed())
    }
}
