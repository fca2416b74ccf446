@testable import GuestServer
import NIOCore
import NIOHTTP1
import Testing

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
        self.init(method: request.method, target: request.target, minorVersion: request.minorVersion, keepAlive: request.keepAlive,
                  body: request.body.map { Array($0.readableBytesView) }, range: request.range,
                  webSocket: request.webSocket.map { Handshake(key: $0.key, version: $0.version) })
    }
}

/// One event a parser gave, `needMore` left out: how often it is said depends on the split.
enum Outcome: Equatable, Sendable {
    case request(Framed)
    case failure(RequestParser.Failure)
}

/// What a fresh parser made of some bytes, fed piece by piece as a connection would read them.
struct Feed: Equatable, CustomStringConvertible {
    /// The requests in order, then the failure if one came (nothing is read after it).
    var outcomes: [Outcome] = []
    /// What stayed in the buffer at the end; nil after a failure, when it no longer matters.
    var unread: [UInt8]? = []

    /// Feeds `bytes` cut at the ascending offsets `cuts`, taking every request a piece completes.
    init(_ bytes: [UInt8], cuts: [Int] = [], limits: RequestParser.Limits = .init()) {
        var parser = RequestParser(limits: limits)
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        var start = 0
        for end in cuts + [bytes.count] {
            buffer.writeBytes(bytes[start..<end])
            start = end
            // Bounded, so that a parser that stops consuming fails the test rather than hangs it.
            reading: for _ in 0...bytes.count {
                switch parser.next(&buffer) {
                case .needMore:
                    break reading
                case .request(let request):
                    outcomes.append(.request(Framed(request)))
                case .failure(let failure):
                    outcomes.append(.failure(failure))
                    unread = nil
                    return
                }
            }
        }
        unread = Array(buffer.readableBytesView)
    }

    /// Feeds `bytes` whole, byte by byte and split in two at every offset, expects the same
    /// feed each way, and returns it.
    static func everyWay(_ bytes: [UInt8], limits: RequestParser.Limits = .init(),
                         sourceLocation: SourceLocation = #_sourceLocation) -> Feed {
        let whole = Feed(bytes, limits: limits)
        let byteByByte = Feed(bytes, cuts: Array(bytes.indices.dropFirst()), limits: limits)
        #expect(byteByByte == whole, "byte by byte", sourceLocation: sourceLocation)
        // One issue for the first split that differs, not one per offset.
        let split = bytes.indices.dropFirst().lazy.map { ($0, Feed(bytes, cuts: [$0], limits: limits)) }.first { $0.1 != whole }
        #expect(split == nil, "split at \(split?.0 ?? 0): \(split?.1.description ?? "")", sourceLocation: sourceLocation)
        return whole
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
