import NIOHTTP1
import Testing

@testable import GuestHTTP

/// `Transfer-Encoding: chunked` request bodies (RFC 9112 section 7.1), through the parser.
@Suite("chunked bodies")
struct ChunkedBodyTests {
    struct Sample: Sendable, CustomTestStringConvertible {
        var testDescription: String
        /// What follows the head.
        var chunks: String
        var body: String?
    }

    static let head = GuestHTTPTests.head("POST /1.0 HTTP/1.1", "Transfer-Encoding: chunked")

    static func post(body: [UInt8]?) -> Outcome { .request(Framed(method: .POST, target: "/1.0", body: body)) }

    static let valid: [Sample] = [
        Sample(testDescription: "one chunk", chunks: "5\r\nhello\r\n0\r\n\r\n", body: "hello"),
        Sample(
            testDescription: "hex of either case, leading zeros",
            chunks: "A\r\n0123456789\r\na\r\nabcdefghij\r\n0005\r\nhello\r\n000\r\n\r\n", body: "0123456789abcdefghijhello"),
        Sample(testDescription: "extensions", chunks: "3;a=b;c=\"d e\"\r\nabc\r\n0;last\r\n\r\n", body: "abc"),
        Sample(testDescription: "whitespace before an extension", chunks: "3 \t;a\r\nabc\r\n0\r\n\r\n", body: "abc"),
        Sample(testDescription: "an empty extension", chunks: "3;\r\nabc\r\n0\r\n\r\n", body: "abc"),
        Sample(testDescription: "trailers", chunks: "3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-Empty:\r\nX-B:\tb \r\n\r\n", body: "abc"),
        Sample(testDescription: "data that looks like framing", chunks: "7\r\n0\r\n\r\n\n\r\r\n0\r\n\r\n", body: "0\r\n\r\n\n\r"),
        Sample(testDescription: "empty", chunks: "0\r\n\r\n", body: nil),
    ]

    @Test(arguments: valid)
    func isDecoded(_ sample: Sample) {
        // A request after it, so that a decoder taking too much or too little shows.
        let next = GuestHTTPTests.head("GET /1.0 HTTP/1.1")
        let feed = Feed.everyWay(Self.head + bytes(sample.chunks) + next)

        #expect(feed.outcomes == [Self.post(body: sample.body.map(bytes)), .request(Framed(method: .GET, target: "/1.0"))])
        #expect(feed.unread == [])
    }

    static let malformed: [Sample] = [
        Sample(testDescription: "size not hex", chunks: "g\r\nabc\r\n0\r\n\r\n"),
        Sample(testDescription: "size empty", chunks: "\r\nabc\r\n0\r\n\r\n"),
        Sample(testDescription: "size with 0x", chunks: "0x11\r\n" + String(repeating: "a", count: 17) + "\r\n0\r\n\r\n"),
        Sample(testDescription: "size negative", chunks: "-1\r\na\r\n0\r\n\r\n"),
        Sample(testDescription: "only an extension", chunks: ";a\r\nabc\r\n0\r\n\r\n"),
        Sample(testDescription: "junk after the size", chunks: "3 x\r\nabc\r\n0\r\n\r\n"),
        Sample(testDescription: "control byte in an extension", chunks: "3;a\u{1}\r\nabc\r\n0\r\n\r\n"),
        Sample(testDescription: "bare LF after the size", chunks: "3\nabc\r\n0\r\n\r\n"),
        Sample(testDescription: "no CRLF after the data", chunks: "3\r\nabcX\r\n0\r\n\r\n"),
        Sample(testDescription: "bare LF after the data", chunks: "3\r\nabc\n0\r\n\r\n"),
        Sample(testDescription: "bare CR after the data", chunks: "3\r\nabc\r0\r\n\r\n"),
        Sample(testDescription: "a trailer that is no field", chunks: "0\r\nnot a field\r\n\r\n"),
        Sample(testDescription: "a trailer with space before the colon", chunks: "0\r\nX-Sum : 1\r\n\r\n"),
        Sample(testDescription: "a folded trailer", chunks: "0\r\nX-Sum: 1\r\n 2\r\n\r\n"),
        Sample(testDescription: "a trailer with NUL", chunks: "0\r\nX-Sum: 1\u{0}\r\n\r\n"),
        Sample(testDescription: "a trailer with a bare LF", chunks: "0\r\nX-Sum: 1\n\r\n"),
        Sample(testDescription: "a bare LF ending the trailers", chunks: "0\r\nX-Sum: 1\r\n\n"),
        Sample(testDescription: "a bare LF ending the body", chunks: "0\r\n\n"),
    ]

    @Test(arguments: malformed)
    func isMalformed(_ sample: Sample) {
        #expect(Feed.everyWay(Self.head + bytes(sample.chunks)).outcomes == [.failure(.malformed)])
    }

    @Test func aSizeLineOf1KiBIsAcceptedAndOneByteMoreIsTooLarge() {
        // "1;", the extension, CRLF.
        let longest = "1;" + String(repeating: "e", count: 1020) + "\r\n"
        #expect(longest.utf8.count == 1024)
        #expect(Feed.everyWay(Self.head + bytes(longest + "a\r\n0\r\n\r\n")).outcomes == [Self.post(body: bytes("a"))])
        #expect(Feed.everyWay(Self.head + bytes("1;e" + longest.dropFirst(2) + "a\r\n0\r\n\r\n")).outcomes == [.failure(.headTooLarge)])
    }

    @Test func trailersAreLimitedLikeAHead() {
        let trailer = "X-Pad: " + String(repeating: "p", count: 16 * 1024) + "\r\n"
        // Whole only: every split of 16 KiB would take minutes.
        #expect(Feed(Self.head + bytes("0\r\n" + trailer + "\r\n")).outcomes == [.failure(.headTooLarge)])
    }
}
