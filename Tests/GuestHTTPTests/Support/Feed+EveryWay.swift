import Testing

@testable import GuestHTTP

extension Feed {
    /// Feeds `bytes` whole, byte by byte and split in two at every offset, expects the same
    /// feed each way, and returns it.
    static func everyWay(
        _ bytes: [UInt8], limits: RequestParser.Limits = .init(),
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Feed {
        let whole = Feed(bytes, limits: limits)
        let byteByByte = Feed(bytes, cuts: Array(bytes.indices.dropFirst()), limits: limits)
        #expect(byteByByte == whole, "byte by byte", sourceLocation: sourceLocation)
        // One issue for the first split that differs, not one per offset.
        let split = bytes.indices.dropFirst().lazy.map { ($0, Feed(bytes, cuts: [$0], limits: limits)) }.first { $0.1 != whole }
        #expect(split == nil, "split at \(split?.0 ?? 0): \(split?.1.description ?? "")", sourceLocation: sourceLocation)
        return whole
    }
}
