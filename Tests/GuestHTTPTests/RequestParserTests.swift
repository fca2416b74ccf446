import NIOCore
import NIOHTTP1
import Testing

@testable import GuestHTTP

@Suite("request parser")
struct RequestParserTests {
    @Test func aSimpleGetIsTakenWhole() {
        var parser = RequestParser(limits: .init())
        var buffer = ByteBuffer(bytes: head("GET /1.0/config?recursion=1 HTTP/1.1", "Host: guest", "User-Agent: curl/8.5.0"))

        guard case .request(let request) = parser.next(&buffer) else {
            Issue.record("no request")
            return
        }
        #expect(request.method == .GET)
        #expect(request.target == "/1.0/config?recursion=1")
        #expect(request.minorVersion == 1)
        #expect(request.keepAlive)
        #expect(request.body == nil)
        #expect(request.range == nil)
        #expect(request.webSocket == nil)
        #expect(buffer.readableBytes == 0)
        guard case .needMore = parser.next(&buffer) else {
            Issue.record("a second event from one request")
            return
        }
    }

    /// Heads written without their final empty line, so that a failure names them readably.
    @Test(arguments: [
        ("GET / HTTP/1.1", true),
        ("GET / HTTP/1.1\r\nConnection: close", false),
        ("GET / HTTP/1.1\r\nConnection: CLOSE", false),
        ("GET / HTTP/1.1\r\nConnection: te, close", false),
        // Only the token, not a word containing it.
        ("GET / HTTP/1.1\r\nConnection: closed", true),
        ("GET / HTTP/1.0", false),
        ("GET / HTTP/1.0\r\nConnection: keep-alive", true),
        ("GET / HTTP/1.0\r\nConnection: Keep-Alive", true),
        ("GET / HTTP/1.0\r\nConnection: close", false),
        ("CONNECT guest:80 HTTP/1.1", false),
        ("CONNECT guest:80 HTTP/1.0\r\nConnection: keep-alive", false),
    ])
    func keepAliveFollowsVersionAndConnection(lines: String, keepAlive: Bool) {
        guard case .request(let request)? = Feed(head(lines)).outcomes.first else {
            Issue.record("no request")
            return
        }
        #expect(request.keepAlive == keepAlive)
    }

    @Test func pipelinedRequestsComeOutInOrder() {
        let feed = Feed(head("GET /a HTTP/1.1") + head("HEAD /b HTTP/1.1", "Connection: close"))

        #expect(
            feed.outcomes == [
                .request(Framed(method: .GET, target: "/a")),
                .request(Framed(method: .HEAD, target: "/b", keepAlive: false)),
            ])
        #expect(feed.unread == [])
    }

    @Test func threePipelinedRequestsLeaveTheNextOnesStartUnread() {
        let rest = bytes("GET /d HTTP/1.1\r\nHo")
        let feed = Feed(
            head("GET /a HTTP/1.1") + head("PATCH /1.0 HTTP/1.1", "Content-Length: 17") + bytes(#"{"state":"Ready"}"#)
                + head("GET /c HTTP/1.0") + rest)

        #expect(
            feed.outcomes == [
                .request(Framed(method: .GET, target: "/a")),
                .request(Framed(method: .PATCH, target: "/1.0", body: bytes(#"{"state":"Ready"}"#))),
                .request(Framed(method: .GET, target: "/c", minorVersion: 0, keepAlive: false)),
            ])
        #expect(feed.unread == rest)
    }

    @Test func eachRequestTakesOnlyItsOwnBytes() {
        var parser = RequestParser(limits: .init())
        let second = head("GET /b HTTP/1.1")
        var buffer = ByteBuffer(bytes: head("POST /a HTTP/1.1", "Content-Length: 4") + bytes("\r\n\r\n") + second)

        guard case .request(let first) = parser.next(&buffer) else {
            Issue.record("no request")
            return
        }
        // A body that looks like a head's end is still body.
        #expect(first.body.map { Array($0.readableBytesView) } == bytes("\r\n\r\n"))
        #expect(Array(buffer.readableBytesView) == second)
    }

    @Test(arguments: [
        ("get / HTTP/1.1\r\n\r\n", RequestParser.Failure.malformed),
        (String(repeating: "a", count: 16 * 1024 + 1), .headTooLarge),
        ("POST / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", .bodyTooLarge),
    ])
    func aFailureIsFinal(text: String, failure: RequestParser.Failure) {
        var parser = RequestParser(limits: .init())
        var buffer = ByteBuffer(string: text)
        for _ in 0..<3 {
            guard case .failure(let again) = parser.next(&buffer) else {
                Issue.record("not failed")
                return
            }
            #expect(again == failure)
            // Whatever comes next cannot be trusted to start a request.
            buffer.writeBytes(head("GET / HTTP/1.1"))
        }
    }

    @Test func partialOnlyWhileARequestHasBegun() {
        var parser = RequestParser(limits: .init())
        var buffer = ByteBuffer()
        #expect(!parser.isPartial(buffer))

        buffer.writeBytes(bytes("G"))
        #expect(parser.isPartial(buffer))

        buffer.writeBytes(bytes("ET / HTTP/1.1\r\n\r\n"))
        _ = parser.next(&buffer)
        #expect(!parser.isPartial(buffer))

        // A head without all of its body is partial even with nothing unread.
        buffer.writeBytes(head("POST / HTTP/1.1", "Content-Length: 2"))
        _ = parser.next(&buffer)
        #expect(buffer.readableBytes == 0)
        #expect(parser.isPartial(buffer))
    }

    @Test func fieldValuesLoseSurroundingWhitespace() {
        #expect(
            Feed(head("GET / HTTP/1.1", "Range: \t bytes=0-9 \t")).outcomes == [
                .request(Framed(method: .GET, target: "/", range: "bytes=0-9"))
            ])
    }

    @Test(arguments: [
        (
            ["Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"],
            Framed.Handshake(key: "dGhlIHNhbXBsZSBub25jZQ==", version: "13")
        ),
        (["connection: keep-alive, upgrade", "upgrade: h2c, WebSocket", "sec-websocket-key: k"], Framed.Handshake(key: "k", version: nil)),
        // Two keys: which one the accept value answers would be a guess.
        (
            ["Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Key: a", "Sec-WebSocket-Key: a", "Sec-WebSocket-Version: 13"],
            Framed.Handshake(key: nil, version: "13")
        ),
        (["Connection: Upgrade", "Upgrade: h2c", "Sec-WebSocket-Key: k"], nil),
        (["Upgrade: websocket", "Sec-WebSocket-Key: k", "Sec-WebSocket-Version: 13"], nil),
        (["Connection: Upgrade", "Upgrade: websockets", "Sec-WebSocket-Key: k"], nil),
    ])
    func webSocketHandshakeFields(fields: [String], handshake: Framed.Handshake?) {
        let lines = ["GET /1.0/events HTTP/1.1"] + fields
        guard case .request(let request)? = Feed(bytes(lines.joined(separator: "\r\n") + "\r\n\r\n")).outcomes.first else {
            Issue.record("no request")
            return
        }
        #expect(request.webSocket == handshake)
    }
}
