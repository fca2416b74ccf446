import ASCIINumbers
import NIOHTTP1

/// Parses one complete request head (request line, header lines, the empty line).
enum HeadParser {
    /// How the body is framed.
    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
    }

    struct Head {
        var request: GuestRequest
        var framing: Framing
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<Head, RequestParser.Failure> {
        var reader = ByteReader(bytes)
        guard let method = reader.token().flatMap(HTTPMethod.init(token:)), reader.take(UInt8(ascii: " ")),
            let target = reader.target(), reader.take(UInt8(ascii: " ")),
            let minor = reader.version(), reader.takeLineEnd()
        else { return .failure(.malformed) }

        var request = GuestRequest(method: method, target: target, minorVersion: minor)
        var fields = KnownFields()
        while !reader.takeLineEnd() {
            guard let name = reader.token(), reader.take(UInt8(ascii: ":")), let value = reader.fieldValue(),
                fields.add(name: name, value: value)
            else { return .failure(.malformed) }
        }

        let framing: Framing
        switch (fields.contentLength, fields.chunked) {
        case (nil, false): framing = .none
        case (let length?, false): framing = .length(length)
        // Both at once is how requests are smuggled; chunked needs HTTP/1.1.
        case (nil, true) where minor == 1: framing = .chunked
        default: return .failure(.malformed)
        }
        // After CONNECT a client sends tunnel bytes, not requests: its answer ends the connection.
        request.keepAlive = method != .CONNECT && (minor == 1 ? !fields.close : fields.keepAlive)
        request.range = fields.range
        request.ifNoneMatch = fields.ifNoneMatch
        if fields.upgrade && fields.upgradesToWebSocket {
            request.webSocket = .init(key: fields.webSocketKeys == 1 ? fields.webSocketKey : nil, version: fields.webSocketVersion)
        }
        return .success(Head(request: request, framing: framing))
    }

    /// The header fields the daemon acts on, gathered as the head is read.
    private struct KnownFields {
        var contentLength: Int?
        var chunked = false
        var sawTransferEncoding = false
        var close = false
        var keepAlive = false
        var upgrade = false
        var upgradesToWebSocket = false
        var webSocketKeys = 0
        var webSocketKey: String?
        var webSocketVersion: String?
        var range: String?
        var ifNoneMatch: String?

        /// False when the field makes the request malformed.
        mutating func add(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool {
            switch name.count {
            case 5 where name.equalsLowercased("range"):
                range = String(decoding: value, as: UTF8.self)
            case 7 where name.equalsLowercased("upgrade"):
                value.forEachListElement { if $0.equalsLowercased("websocket") { upgradesToWebSocket = true } }
            case 13 where name.equalsLowercased("if-none-match"):
                // Fields of one name are one list (RFC 9110, 5.3).
                let tags = String(decoding: value, as: UTF8.self)
                ifNoneMatch = ifNoneMatch.map { $0 + ", " + tags } ?? tags
            case 10 where name.equalsLowercased("connection"):
                value.forEachListElement { token in
                    if token.equalsLowercased("close") { close = true }
                    if token.equalsLowercased("keep-alive") { keepAlive = true }
                    if token.equalsLowercased("upgrade") { upgrade = true }
                }
            case 14 where name.equalsLowercased("content-length"):
                guard contentLength == nil, let length = Int(ascii: value) else { return false }
                contentLength = length
            case 17 where name.equalsLowercased("transfer-encoding"):
                // Only `chunked`, once: no other coding is supported, and a list or a second
                // field is a way to disagree with another parser about where a body ends.
                guard !sawTransferEncoding, value.equalsLowercased("chunked") else { return false }
                sawTransferEncoding = true
                chunked = true
            case 17 where name.equalsLowercased("sec-websocket-key"):
                webSocketKeys += 1
                webSocketKey = String(decoding: value, as: UTF8.self)
            case 21 where name.equalsLowercased("sec-websocket-version"):
                webSocketVersion = String(decoding: value, as: UTF8.self)
            default:
                break
            }
            return true
        }
    }
}
