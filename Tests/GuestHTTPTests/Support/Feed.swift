import NIOCore
import NIOHTTP1

@testable import GuestHTTP

// Shared by the unit tests and the fuzzer, whose package (tools/hardening/fuzz) links this
// file into its harness: it imports no test framework.

/// A framed request reduced to what the server acts on, so that two feedings can be compared.
struct Framed: Equatable, Sendable {
    struct Handshake: Equatable, Sendable {
        var key: String?
        var version: String?
    }

    var method: HTTPMethod
    var target: String
    var minorVersion = 1
    var keepAlive = true
    var body: [UInt8]?
    var range: String?
    var webSocket: Handshake?
}

extension Framed {
    init(_ request: GuestRequest) {
        self.init(
            method: request.method, target: request.target, minorVersion: request.minorVersion, keepAlive: request.keepAlive,
            body: request.body.map { Array($0.readableBytesView) }, range: request.range,
            webSocket: request.webSocket.map { Handshake(key: $0.key, version: $0.version) })
    }
}

/// One event a parser gave, `needMore` left out: how often it is said depends on the split.
enum Outcome: Equatable, Sendable {
    case request(Framed)
    case failure(RequestParser.Failure)
}

/// What a fresh parser made of a byte stream that arrived in the given parts, as a
/// connection would read them: the same value, however the stream is cut, is the property.
struct Feed: Equatable, CustomStringConvertible {
    /// The requests in order, then the failure if one came (nothing is read after it).
    var outcomes: [Outcome] = []
    /// Where in the stream each request ended: the offset just past its last byte.
    var ends: [Int] = []
    /// What stayed in the buffer at the end; nil after a failure, when it no longer matters.
    var unread: [UInt8]? = []
    /// The stream ended partway through a request (no failure came).
    var partial = false

    /// Feeds `parts` one after the other, taking every request each one completes.
    init(parts: some Sequence<ArraySlice<UInt8>>, limits: RequestParser.Limits = .init()) {
        var parser = RequestParser(limits: limits)
        var buffer = ByteBuffer()
        var written = 0
        feeding: for part in parts {
            buffer.writeBytes(part)
            written += part.count
            while true {
                switch parser.next(&buffer) {
                case .needMore:
                    continue feeding
                case .request(let request):
                    let end = written - buffer.readableBytes
                    // Else the loop would never end.
                    precondition(end > (ends.last ?? 0), "a request took no bytes from the stream")
                    outcomes.append(.request(Framed(request)))
                    ends.append(end)
                case .failure(let failure):
                    outcomes.append(.failure(failure))
                    unread = nil
                    return
                }
            }
        }
        unread = Array(buffer.readableBytesView)
        partial = parser.isPartial(buffer)
    }

    /// Feeds `bytes` cut at the ascending offsets `cuts`.
    init(_ bytes: [UInt8], cuts: [Int] = [], limits: RequestParser.Limits = .init()) {
        let bounds = [0] + cuts + [bytes.count]
        self.init(parts: zip(bounds, bounds.dropFirst()).map { bytes[$0..<$1] }, limits: limits)
    }

    /// The requests, each with the offset where it ended.
    var requests: [(request: Framed, end: Int)] {
        zip(outcomes.compactMap { if case .request(let request) = $0 { request } else { nil } }, ends).map { ($0, $1) }
    }

    var description: String {
        "\(outcomes), unread: \(unread.map { String(decoding: $0, as: UTF8.self).debugDescription } ?? "-")"
    }
}

/// A request head of these lines, each ended by CRLF, then the empty line.
func head(_ lines: String...) -> [UInt8] {
    Array((lines.map { $0 + "\r\n" }.joined() + "\r\n").utf8)
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
