import NIOCore
import NIOHTTP1
import Testing

@testable import GuestHTTP

/// README, "Limits a guest cannot pass": a head of at most 16 KiB, a body of at most 64 KiB, checked as bytes arrive.
@Suite("request parser limits")
struct LimitTests {
    static let getRoot = Outcome.request(Framed(method: .GET, target: "/"))

    /// A GET whose head, leading empty lines included, is `size` bytes.
    static func get(headSize size: Int, emptyLinesBefore: Int = 0) -> [UInt8] {
        let start = String(repeating: "\r\n", count: emptyLinesBefore) + "GET / HTTP/1.1\r\nX-Pad: "
        return bytes(start + String(repeating: "p", count: size - start.utf8.count - 4) + "\r\n\r\n")
    }

    /// Whole and byte by byte: every split of 16 KiB would take minutes.
    static func outcomes(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> [Outcome] {
        let whole = Feed(bytes)
        #expect(Feed(bytes, cuts: Array(bytes.indices.dropFirst())) == whole, "byte by byte", sourceLocation: sourceLocation)
        return whole.outcomes
    }

    @Test func aHeadOfExactly16KiBIsAccepted() {
        let request = Self.get(headSize: 16 * 1024)
        #expect(request.count == 16384)
        #expect(Self.outcomes(request) == [Self.getRoot])
    }

    @Test func aHeadOneByteLongerIsTooLarge() {
        #expect(Self.outcomes(Self.get(headSize: 16 * 1024 + 1)) == [.failure(.headTooLarge)])
    }

    @Test func tooLargeAsSoonAsTheLimitIsPassedWithoutTheEnd() {
        var parser = RequestParser(limits: .init())
        var buffer = ByteBuffer(bytes: bytes("GET /" + String(repeating: "a", count: 16 * 1024 - 5)))
        guard case .needMore = parser.next(&buffer) else {
            Issue.record("failed at the limit")
            return
        }
        buffer.writeBytes(bytes("a"))
        guard case .failure(.headTooLarge) = parser.next(&buffer) else {
            Issue.record("not too large one byte past the limit")
            return
        }
    }

    @Test func emptyLinesBeforeTheRequestLineAreSkippedButCounted() {
        #expect(Self.outcomes(Self.get(headSize: 16 * 1024, emptyLinesBefore: 100)) == [Self.getRoot])
        #expect(Self.outcomes(Self.get(headSize: 16 * 1024 + 1, emptyLinesBefore: 100)) == [.failure(.headTooLarge)])
        // Else a guest could hold a connection forever on CRLFs.
        let emptyLines = bytes(String(repeating: "\r\n", count: 8 * 1024))
        #expect(Feed(emptyLines).outcomes == [])
        #expect(Feed(emptyLines).unread == emptyLines)
        #expect(Feed(emptyLines + bytes("\r\n")).outcomes == [.failure(.headTooLarge)])
    }

    @Test func eachPipelinedRequestHasItsOwnLimit() {
        let head = Self.get(headSize: 10_000)
        #expect(Self.outcomes(head + head + head) == [Self.getRoot, Self.getRoot, Self.getRoot])
    }

    @Test func aBodyOfExactly64KiBIsAccepted() {
        let body = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let request = head("POST / HTTP/1.1", "Content-Length: 65536") + body
        #expect(Self.outcomes(request) == [.request(Framed(method: .POST, target: "/", body: body))])
    }

    @Test(arguments: ["65537", "9223372036854775807"])
    func aLongerContentLengthFailsBeforeAnyBodyByte(length: String) {
        var parser = RequestParser(limits: .init())
        var buffer = ByteBuffer(bytes: head("POST / HTTP/1.1", "Content-Length: \(length)"))
        guard case .failure(.bodyTooLarge) = parser.next(&buffer) else {
            Issue.record("not too large")
            return
        }
    }

    static let chunkedHead = head("POST / HTTP/1.1", "Transfer-Encoding: chunked")
    static let halfLimit = [UInt8](repeating: UInt8(ascii: "c"), count: 0x8000)

    @Test func chunksOfExactly64KiBInAllAreAccepted() {
        let request =
            Self.chunkedHead + bytes("8000\r\n") + Self.halfLimit + bytes("\r\n8000\r\n") + Self.halfLimit
            + bytes("\r\n0\r\n\r\n")
        #expect(Self.outcomes(request) == [.request(Framed(method: .POST, target: "/", body: Self.halfLimit + Self.halfLimit))])
    }

    @Test func chunksOverTheLimitInAllFailBeforeTheirData() {
        // The size line alone: the data that would pass the limit never has to arrive.
        let request = Self.chunkedHead + bytes("8000\r\n") + Self.halfLimit + bytes("\r\n8001\r\n")
        #expect(Self.outcomes(request) == [.failure(.bodyTooLarge)])
    }

    @Test(arguments: ["10001", "FFFFFFFFFFFFFFFFFFFFFFFF", "0000000000000000000010001"])
    func aChunkOverTheLimitFails(size: String) {
        #expect(Feed.everyWay(Self.chunkedHead + bytes(size + "\r\n")).outcomes == [.failure(.bodyTooLarge)])
    }

    @Test func limitsComeFromTheValueGiven() {
        let limits = RequestParser.Limits(maxHeadBytes: 18, maxBodyBytes: 4)
        #expect(Feed(head("GET / HTTP/1.1"), limits: limits).outcomes == [Self.getRoot])
        #expect(Feed(head("GET /a HTTP/1.1"), limits: limits).outcomes == [.failure(.headTooLarge)])

        let post = bytes("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n")
        #expect(
            Feed(post + bytes("abcd"), limits: .init(maxHeadBytes: post.count, maxBodyBytes: 4)).outcomes
                == [.request(Framed(method: .POST, target: "/", body: bytes("abcd")))])
        #expect(Feed(post, limits: .init(maxHeadBytes: post.count, maxBodyBytes: 3)).outcomes == [.failure(.bodyTooLarge)])
    }
}
