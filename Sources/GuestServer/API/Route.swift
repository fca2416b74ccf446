import NIOHTTP1

/// The guest API's endpoints, parsed from the request path.
enum Route: Equatable {
    case root
    case info
    case config
    case configKey(String)
    case devices
    case events
    case metaData
    case imageExport(fingerprint: String)

    /// nil for an unknown path. `{key}` and `{fingerprint}` are percent-decoded.
    init?(path: Substring) {
        switch path {
        case "/": self = .root
        case "/1.0": self = .info
        case "/1.0/config": self = .config
        case "/1.0/devices": self = .devices
        case "/1.0/events": self = .events
        case "/1.0/meta-data": self = .metaData
        default:
            if let key = Self.segment(path, after: "/1.0/config/", before: "") {
                self = .configKey(key)
            } else if let fingerprint = Self.segment(path, after: "/1.0/images/", before: "/export") {
                self = .imageExport(fingerprint: fingerprint)
            } else {
                return nil
            }
        }
    }

    /// One non-empty path segment between a prefix and a suffix, decoded.
    private static func segment(_ path: Substring, after prefix: String, before suffix: String) -> String? {
        guard path.hasPrefix(prefix), path.hasSuffix(suffix) else { return nil }
        let raw = path.dropFirst(prefix.count).dropLast(suffix.count)
        // A Character, not a String: the String overload is Foundation's range(of:), five times slower.
        guard !raw.isEmpty, !raw.contains(Character("/")), let bytes = PercentDecoding.decode(raw) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The methods the endpoint answers; HEAD goes with GET.
    func allows(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD: true
        case .PATCH: self == .info
        default: false
        }
    }

    /// With `security.guestapi=false`, only `/` and `GET /1.0` still answer.
    func allowedWhenDisabled(_ method: HTTPMethod) -> Bool {
        self == .root || (self == .info && method != .PATCH)
    }
}
