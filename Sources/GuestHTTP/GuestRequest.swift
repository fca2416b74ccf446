import ASCIINumbers
import NIOCore
import NIOHTTP1

/// One guest request as the API sees it: what `RequestParser` framed, with the header
/// fields the daemon acts on already read.
public struct GuestRequest: Sendable {
    /// A request to switch to WebSocket (`Connection: upgrade`, `Upgrade: websocket`).
    public struct WebSocketHandshake: Sendable {
        /// `Sec-WebSocket-Key`; nil when missing or given more than once.
        public var key: String?
        public var version: String?

        public init(key: String?, version: String?) {
            self.key = key
            self.version = version
        }
    }

    public var method: HTTPMethod
    /// The request target as sent (still percent-encoded).
    public var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    /// The client wants the connection kept open after the answer.
    public var keepAlive = true
    public var webSocket: WebSocketHandshake?
    /// The `Range` field.
    public var range: String?
    /// The `If-None-Match` field (several are joined into one list).
    public var ifNoneMatch: String?
    public var body: ByteBuffer?

    public init(method: HTTPMethod, target: String, minorVersion: Int) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
    }

    /// The path without the query string, as sent (still percent-encoded). An absolute-form
    /// target (`http://host/path`) is reduced to its path, as Go's server (so Incus) does.
    public var path: Substring {
        var uri = target[...]
        // Origin-form (`/…`, nearly every request) is never absolute-form, since "/" is no
        // letter: skipping the search saves a fifth of a keep-alive request's time.
        if uri.utf8.first != UInt8(ascii: "/"), let scheme = uri.firstRange(of: "://"), uri[..<scheme.lowerBound].allSatisfy(\.isLetter) {
            // The authority ends at the path, the query or the fragment; without a path, it is "/".
            let rest = uri[scheme.upperBound...]
            let end = rest.utf8.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }
            uri = end.flatMap { rest.utf8[$0] == UInt8(ascii: "/") ? rest[$0...] : nil } ?? "/"
        }
        return uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { uri[..<$0] } ?? uri
    }

    /// The query string's parameters, percent-decoded; the first of a repeated name wins.
    /// A value with a malformed escape comes as sent, so that it fails validation (`since=%zz`
    /// is a 400) rather than vanishing (which would turn a replay into a live stream).
    public func query(_ name: String) -> String? {
        guard let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if PercentDecoding.decode(parts[0].utf8) == Array(name.utf8) {
                guard parts.count > 1 else { return "" }
                return String(decoding: PercentDecoding.decode(parts[1].utf8) ?? Array(parts[1].utf8), as: UTF8.self)
            }
        }
        return nil
    }
}

extension GuestRequest {
    /// Whether `If-None-Match` names `tag` (or is `*`): weak comparison, as RFC 9110 has
    /// for this field, so `W/"x"` matches `"x"`.
    public func noneMatchNames(_ tag: String) -> Bool {
        guard let ifNoneMatch else { return false }
        for item in ifNoneMatch.split(separator: ",") {
            var candidate = item.drop { $0 == " " || $0 == "\t" }
            while candidate.last == " " || candidate.last == "\t" { candidate = candidate.dropLast() }
            if candidate == "*" { return true }
            if candidate.hasPrefix("W/") { candidate = candidate.dropFirst(2) }
            if candidate == tag { return true }
        }
        return false
    }
}

/// `%XX` decoding of a URL component; nil for a malformed escape.
public enum PercentDecoding {
    @inlinable
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var iterator = text.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(\.hexDigitValue), let low = iterator.next().flatMap(\.hexDigitValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
