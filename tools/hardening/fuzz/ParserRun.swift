import NIOCore
import NIOHTTP1

/// What one `RequestParser` made of a byte stream that arrived in the given parts: the
/// requests and the failure, in order, as values two runs can be compared by.
struct ParserRun: Equatable {
    /// A framed request: the fields the daemon acts on, and where in the stream it ended.
    struct Request: Equatable {
        var method: HTTPMethod
        var target: String
        var minorVersion: Int
        var keepAlive: Bool
        var range: String?
        var webSocket: Handshake?
        var body: [UInt8]?
        /// Offset in the stream just past the request's last byte.
        var end: Int
    }

    struct Handshake: Equatable {
        var key: String?
        var version: String?
    }

    enum Event: Equatable {
        case request(Request)
        case failure(RequestParser.Failure)
    }

    private(set) var events: [Event] = []
    /// The stream ended partway through a request (no failure came).
    private(set) var partial = false

    /// Feeds `parts` one after the other, taking every request each one completes; stops at
    /// the first failure, after which the parser only repeats it.
    init(_ parts: [ArraySlice<UInt8>], limits: RequestParser.Limits) {
        var parser = RequestParser(limits: limits)
        var buffer = ByteBuffer()
        var written = 0, lastEnd = 0
        feeding: for part in parts {
            buffer.writeBytes(part)
            written += part.count
            while true {
                switch parser.next(&buffer) {
                case .needMore:
                    continue feeding
                case .request(let request):
                    let end = written - buffer.readableBytes
                    precondition(end > lastEnd, "a request took no bytes from the stream")
                    events.append(.request(Request(request, end: end)))
                    lastEnd = end
                case .failure(let failure):
                    events.append(.failure(failure))
                    return
                }
            }
        }
        partial = parser.isPartial(buffer)
    }

    var requests: [Request] {
        events.compactMap { if case .request(let request) = $0 { request } else { nil } }
    }
}

extension ParserRun.Request {
    init(_ request: GuestRequest, end: Int) {
        self.init(method: request.method, target: request.target, minorVersion: request.minorVersion,
                  keepAlive: request.keepAlive, range: request.range,
                  webSocket: request.webSocket.map { ParserRun.Handshake(key: $0.key, version: $0.version) },
                  body: request.body.map { Array($0.readableBytesView) }, end: end)
    }
}
