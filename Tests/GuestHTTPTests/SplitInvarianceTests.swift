import NIOHTTP1
import Testing

@testable import GuestHTTP

/// A connection's reads cut its bytes anywhere; what the parser makes of them must not depend on where.
@Suite("request parser split invariance")
struct SplitInvarianceTests {
    struct Sample: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var bytes: [UInt8]
        var outcomes: [Outcome]
        /// Left unread at the end; nil when the feed ends in a failure.
        var unread: [UInt8]? = []
    }

    static let websocket = head(
        "GET /1.0/events?type=config HTTP/1.1", "Host: guest", "Connection: Upgrade", "Upgrade: websocket",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13")
    static let chunked =
        head("PATCH /1.0 HTTP/1.1", "Transfer-Encoding: chunked")
        + bytes("6;name=\"v\"\r\n{\"stat\r\nB ; last\r\ne\":\"Ready\"}\r\n0;done\r\nX-Sum: 1\r\nX-Other:\r\n\r\n")

    static let samples: [Sample] = [
        Sample(
            testDescription: "simple GET", bytes: head("GET /1.0 HTTP/1.1", "Host: guest"),
            outcomes: [.request(Framed(method: .GET, target: "/1.0"))]),
        Sample(
            testDescription: "HTTP/1.0 keep-alive and Range",
            bytes: head("GET /1.0/images/ab/export HTTP/1.0", "Connection: keep-alive", "Range: bytes=-5"),
            outcomes: [.request(Framed(method: .GET, target: "/1.0/images/ab/export", minorVersion: 0, range: "bytes=-5"))]),
        Sample(
            testDescription: "three pipelined",
            bytes: head("GET /a HTTP/1.1") + head("HEAD /b HTTP/1.1") + head("GET /c HTTP/1.1", "Connection: close"),
            outcomes: [
                .request(Framed(method: .GET, target: "/a")), .request(Framed(method: .HEAD, target: "/b")),
                .request(Framed(method: .GET, target: "/c", keepAlive: false)),
            ]),
        Sample(
            testDescription: "Content-Length bodies, an empty line between",
            bytes: head("PATCH /1.0 HTTP/1.1", "Content-Length: 7") + bytes("a\r\n\r\nb\n") + bytes("\r\n")
                + head("POST /x HTTP/1.1", "Content-Length: 0") + head("GET /y HTTP/1.1"),
            outcomes: [
                .request(Framed(method: .PATCH, target: "/1.0", body: bytes("a\r\n\r\nb\n"))),
                .request(Framed(method: .POST, target: "/x")), .request(Framed(method: .GET, target: "/y")),
            ]),
        Sample(
            testDescription: "chunked with extensions and trailers, then a GET", bytes: chunked + websocket,
            outcomes: [
                .request(Framed(method: .PATCH, target: "/1.0", body: bytes(#"{"state":"Ready"}"#))),
                .request(
                    Framed(
                        method: .GET, target: "/1.0/events?type=config",
                        webSocket: .init(key: "dGhlIHNhbXBsZSBub25jZQ==", version: "13"))),
            ]),
        Sample(
            testDescription: "chunk data holding line ends",
            bytes: head("POST / HTTP/1.1", "Transfer-Encoding: chunked") + bytes("4\r\n\n\r\n\r\r\n0\r\n\r\n"),
            outcomes: [.request(Framed(method: .POST, target: "/", body: bytes("\n\r\n\r")))]),
        Sample(
            testDescription: "leading empty lines", bytes: bytes("\r\n\r\n") + head("GET / HTTP/1.1"),
            outcomes: [.request(Framed(method: .GET, target: "/"))]),
        Sample(
            testDescription: "a head cut short", bytes: head("GET /a HTTP/1.1") + bytes("GET /b HTTP/1.1\r\nHost: g\r\n\r"),
            outcomes: [.request(Framed(method: .GET, target: "/a"))], unread: bytes("GET /b HTTP/1.1\r\nHost: g\r\n\r")),
        Sample(
            testDescription: "a body cut short", bytes: head("PATCH /1.0 HTTP/1.1", "Content-Length: 10") + bytes("abcd"),
            outcomes: [], unread: bytes("abcd")),
        Sample(
            testDescription: "a chunked body cut short",
            bytes: head("PATCH /1.0 HTTP/1.1", "Transfer-Encoding: chunked") + bytes("5\r\nabcde\r\n3\r\nab"),
            outcomes: [], unread: []),
        Sample(
            testDescription: "a bare LF in the second request",
            bytes: head("GET /a HTTP/1.1") + bytes("GET /b HTTP/1.1\nHost: g\r\n\r\n"),
            outcomes: [.request(Framed(method: .GET, target: "/a")), .failure(.malformed)], unread: nil),
        Sample(
            testDescription: "Transfer-Encoding with Content-Length",
            bytes: head("POST / HTTP/1.1", "Content-Length: 5", "Transfer-Encoding: chunked") + bytes("0\r\n\r\n"),
            outcomes: [.failure(.malformed)], unread: nil),
        Sample(
            testDescription: "chunk data without its CRLF",
            bytes: head("POST / HTTP/1.1", "Transfer-Encoding: chunked") + bytes("3\r\nabcd\r\n0\r\n\r\n"),
            outcomes: [.failure(.malformed)], unread: nil),
        Sample(
            testDescription: "a bad chunk size after a request",
            bytes: head("GET / HTTP/1.1") + head("POST / HTTP/1.1", "Transfer-Encoding: chunked") + bytes("g\r\n"),
            outcomes: [.request(Framed(method: .GET, target: "/")), .failure(.malformed)], unread: nil),
        Sample(
            testDescription: "a body over the limit after a request",
            bytes: head("GET / HTTP/1.1") + head("POST / HTTP/1.1", "Content-Length: 65537") + bytes("abc"),
            outcomes: [.request(Framed(method: .GET, target: "/")), .failure(.bodyTooLarge)], unread: nil),
        Sample(
            testDescription: "chunks over the limit",
            bytes: head("POST / HTTP/1.1", "Transfer-Encoding: chunked") + bytes("2\r\nab\r\nffff\r\n"),
            outcomes: [.failure(.bodyTooLarge)], unread: nil),
    ]

    @Test(arguments: samples)
    func everySplitGivesTheSameEvents(_ sample: Sample) {
        let feed = Feed.everyWay(sample.bytes)

        #expect(feed.outcomes == sample.outcomes)
        #expect(feed.unread == sample.unread)
    }

    struct Input: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var bytes: [UInt8]
        var limits = RequestParser.Limits()
    }

    /// A bare LF past a limit: read whole, the LF is found first (malformed); read in pieces,
    /// the limit is passed first (too large). The answer (400 or 431) then depends on how the
    /// guest's bytes were segmented.
    @Test(arguments: [
        // A small head limit, so that every split is tried in no time; the same happens at 16 KiB.
        Input(
            testDescription: "a request line past the head limit",
            bytes: bytes("GET /" + String(repeating: "a", count: 80) + " HTTP/1.1\nHost: g\r\n\r\n"),
            limits: .init(maxHeadBytes: 64, maxBodyBytes: 64)),
        Input(
            testDescription: "a field line past the head limit",
            bytes: bytes("GET / HTTP/1.1\r\nX-Pad: " + String(repeating: "p", count: 80) + "\n\r\n"),
            limits: .init(maxHeadBytes: 64, maxBodyBytes: 64)),
        Input(
            testDescription: "a chunk-size line past 1 KiB",
            bytes: head("POST / HTTP/1.1", "Transfer-Encoding: chunked")
                + bytes("1;" + String(repeating: "e", count: 1100) + "\na\r\n0\r\n\r\n")),
    ])
    func aBareLineFeedPastALimitFailsTheSameWhateverTheSplit(_ input: Input) {
        _ = Feed.everyWay(input.bytes, limits: input.limits)
    }
}
