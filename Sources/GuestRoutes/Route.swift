import GuestHTTP
import NIOHTTP1

/// The guest API's endpoints, parsed from the request path.
public enum Route: Equatable, Sendable {
    case root
    case info
    case config
    case configKey(String)
    case devices
    case events
    case metaData
    case imageExport(fingerprint: String)
    /// `/1.0/identity`: a workload identity token, a new one every time.
    case identity

    /// nil for an unknown path. `{key}` and `{fingerprint}` are percent-decoded.
    public init?(path: Substring) {
        // Matched as bytes: the path is ASCII (the parser saw to it), and Character-wise
        // String matching cost a tenth of a keep-alive request.
        var path = path
        guard let route = path.withUTF8({ Self.parse(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = route
    }

    private static func parse(_ path: UnsafeRawBufferPointer) -> Route? {
        if path.equals("/") { return .root }
        if path.equals("/1.0") { return .info }
        if path.equals("/1.0/config") { return .config }
        if path.equals("/1.0/devices") { return .devices }
        if path.equals("/1.0/events") { return .events }
        if path.equals("/1.0/meta-data") { return .metaData }
        if path.equals("/1.0/identity") { return .identity }
        if let key = segment(path, after: "/1.0/config/", before: "") { return .configKey(key) }
        if let fingerprint = segment(path, after: "/1.0/images/", before: "/export") { return .imageExport(fingerprint: fingerprint) }
        return nil
    }

    /// One non-empty path segment between a prefix and a suffix, decoded.
    private static func segment(_ path: UnsafeRawBufferPointer, after prefix: StaticString, before suffix: StaticString) -> String? {
        guard path.count > prefix.utf8CodeUnitCount + suffix.utf8CodeUnitCount, path.hasPrefix(prefix), path.hasSuffix(suffix) else {
            return nil
        }
        let raw = UnsafeRawBufferPointer(rebasing: path[prefix.utf8CodeUnitCount..<(path.count - suffix.utf8CodeUnitCount)])
        guard !raw.contains(UInt8(ascii: "/")), let bytes = PercentDecoding.decode(raw) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The methods the endpoint answers; HEAD goes with GET.
    public func allows(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD: true
        case .PATCH: self == .info
        default: false
        }
    }

    /// Whether the same request gets the same answer while the database is unchanged (what
    /// an answer cache may keep): every endpoint's but a token's, which is new each time.
    public var isRepeatable: Bool { self != .identity }

    /// With `security.guestapi=false`, only `/` and `GET /1.0` still answer.
    public func allowedWhenDisabled(_ method: HTTPMethod) -> Bool {
        self == .root || (self == .info && method != .PATCH)
    }
}
