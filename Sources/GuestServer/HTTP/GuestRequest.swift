import NIOCore
import NIOHTTP1

/// One guest request as the API sees it: method, path split from its query, and the body.
struct GuestRequest {
    var head: HTTPRequestHead
    var body: ByteBuffer?

    var method: HTTPMethod { head.method }

    /// The path without the query string, as sent (still percent-encoded). An absolute-form
    /// target (`http://host/path`) is reduced to its path, as Go's server (so Incus) does.
    var path: Substring {
        var uri = head.uri[...]
        // Origin-form (`/…`, nearly every request) is never absolute-form, since "/" is no
        // letter: skipping the search saves a fifth of a keep-alive request's time.
        if uri.first != "/", let scheme = uri.firstRange(of: "://"), uri[..<scheme.lowerBound].allSatisfy(\.isLetter) {
            let authority = uri[scheme.upperBound...]
            uri = authority.firstIndex(of: "/").map { authority[$0...] } ?? "/"
        }
        return uri.firstIndex(of: "?").map { uri[..<$0] } ?? uri
    }

    /// The query string's parameters, percent-decoded; the first of a repeated name wins.
    /// A value with a malformed escape comes as sent, so that it fails validation (`since=%zz`
    /// is a 400) rather than vanishing (which would turn a replay into a live stream).
    func query(_ name: String) -> String? {
        guard let mark = head.uri.firstIndex(of: "?") else { return nil }
        for pair in head.uri[head.uri.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if PercentDecoding.decode(parts[0]) == Array(name.utf8) {
                guard parts.count > 1 else { return "" }
                return String(decoding: PercentDecoding.decode(parts[1]) ?? Array(parts[1].utf8), as: UTF8.self)
            }
        }
        return nil
    }

    var wantsWebSocket: Bool {
        Self.asksToUpgrade(head) && head.headers["upgrade"].contains { $0.lowercased() == "websocket" }
    }

    /// NIO's decoder reads nothing after a CONNECT or a request asking to upgrade (what llhttp
    /// flags as an upgrade) until the connection changes protocol. Every such request but a
    /// WebSocket upgrade of /1.0/events is answered over HTTP, and the connection must then
    /// close: whatever the client sends next would never be read.
    static func stopsTheDecoder(_ head: HTTPRequestHead) -> Bool {
        head.method == .CONNECT || asksToUpgrade(head)
    }

    private static func asksToUpgrade(_ head: HTTPRequestHead) -> Bool {
        head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" } && head.headers.contains(name: "upgrade")
    }
}

/// `%XX` decoding of a URL component; nil for a malformed escape.
enum PercentDecoding {
    static func decode(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
