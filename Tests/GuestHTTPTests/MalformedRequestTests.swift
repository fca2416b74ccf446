import Testing

@testable import GuestHTTP

/// Whatever the parser cannot frame exactly fails: another parser in front of the daemon
/// could frame it differently, and a guest could smuggle a request past it.
@Suite("malformed requests")
struct MalformedRequestTests {
    struct Sample: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var bytes: [UInt8]

        init(_ testDescription: String, _ bytes: [UInt8]) {
            self.testDescription = testDescription
            self.bytes = bytes
        }

        /// A GET with this one extra field line.
        init(_ testDescription: String, field: [UInt8], version: String = "1.1") {
            self.init(testDescription, Array("GET / HTTP/\(version)\r\n".utf8) + field + Array("\r\n\r\n".utf8))
        }
    }

    static let requestLines: [Sample] = [
        Sample("bare LF line ends", bytes("GET / HTTP/1.1\nHost: g\n\n")),
        Sample("bare LF ending the head", bytes("GET / HTTP/1.1\r\nHost: g\r\n\n")),
        Sample("bare LF first", bytes("\nGET / HTTP/1.1\r\n\r\n")),
        Sample("CR CR LF", bytes("GET / HTTP/1.1\r\r\n\r\n")),
        Sample("lowercase method", head("get / HTTP/1.1")),
        Sample("unknown method", head("FOO / HTTP/1.1")),
        Sample("tab separator", head("GET\t/ HTTP/1.1")),
        Sample("two spaces", head("GET  / HTTP/1.1")),
        Sample("no target", head("GET HTTP/1.1")),
        Sample("no version", head("GET /")),
        Sample("trailing space", head("GET / HTTP/1.1 ")),
        Sample("HTTP/2.0", head("GET / HTTP/2.0")),
        Sample("HTTP/1.2", head("GET / HTTP/1.2")),
        Sample("HTTP/1.10", head("GET / HTTP/1.10")),
        Sample("lowercase version", head("GET / http/1.1")),
        Sample("control byte in the target", bytes("GET /a") + [0x01] + bytes("b HTTP/1.1\r\n\r\n")),
        Sample("DEL in the target", bytes("GET /a") + [0x7F] + bytes(" HTTP/1.1\r\n\r\n")),
        Sample("0x80 in the target", bytes("GET /a") + [0x80] + bytes(" HTTP/1.1\r\n\r\n")),
        Sample("UTF-8 in the target", bytes("GET /1.0/config/é HTTP/1.1\r\n\r\n")),
    ]

    static let fieldLines: [Sample] = [
        Sample("space before colon", field: bytes("Host : g")),
        Sample("no colon", field: bytes("Host g")),
        Sample("empty name", field: bytes(": g")),
        Sample("obs-fold", bytes("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n")),
        Sample("NUL in a value", field: bytes("X-A: a") + [0] + bytes("b")),
        Sample("CR in a value", field: bytes("X-A: a\rb")),
        Sample("ESC in a value", field: bytes("X-A: ") + [0x1B]),
        Sample("DEL in a value", field: bytes("X-A: a") + [0x7F]),
        Sample("duplicate Content-Length", bytes("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")),
        Sample("duplicate equal Content-Length", bytes("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na")),
        Sample("Content-Length +1", field: bytes("Content-Length: +1")),
        Sample("Content-Length -1", field: bytes("Content-Length: -1")),
        Sample("Content-Length list", field: bytes("Content-Length: 1,1")),
        Sample("Content-Length empty", field: bytes("Content-Length:")),
        Sample("Content-Length hex", field: bytes("Content-Length: 0x1")),
        Sample("Content-Length inner space", field: bytes("Content-Length: 1 1")),
        Sample("Content-Length past Int.max", field: bytes("Content-Length: 9223372036854775808")),
        Sample("Content-Length far past Int.max", field: bytes("Content-Length: 99999999999999999999999")),
        Sample("Transfer-Encoding gzip", field: bytes("Transfer-Encoding: gzip")),
        Sample("Transfer-Encoding chunked twice in a list", field: bytes("Transfer-Encoding: chunked, chunked")),
        Sample("Transfer-Encoding gzip then chunked", field: bytes("Transfer-Encoding: gzip, chunked")),
        Sample("Transfer-Encoding in two fields", field: bytes("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked")),
        Sample("Transfer-Encoding with Content-Length", field: bytes("Transfer-Encoding: chunked\r\nContent-Length: 0")),
        Sample("Content-Length with Transfer-Encoding", field: bytes("Content-Length: 0\r\nTransfer-Encoding: chunked")),
        Sample("Transfer-Encoding on HTTP/1.0", field: bytes("Transfer-Encoding: chunked"), version: "1.0"),
    ]

    @Test(arguments: requestLines + fieldLines)
    func isMalformed(_ sample: Sample) {
        #expect(Feed.everyWay(sample.bytes).outcomes == [.failure(.malformed)])
    }

    /// The near misses of the cases above, so that those fail for the reason they name.
    @Test(arguments: [
        "GET / HTTP/1.0\r\n\r\n", "DELETE / HTTP/1.1\r\n\r\n", "OPTIONS * HTTP/1.1\r\n\r\n",
        "GET /~a!$&'()*+,;=:@%20?x=[]#f HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nX-A:a\r\n\r\n",
        "GET / HTTP/1.1\r\nX-A: a\tb\r\n\r\n", "GET / HTTP/1.1\r\nX-A: \u{e9}\r\n\r\n", "GET / HTTP/1.1\r\nX-A:\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "GET / HTTP/1.1\r\nCONTENT-LENGTH: 00\r\n\r\n",
        "GET / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n", "GET / HTTP/1.1\r\nTransfer-Encoding:  chunked \r\n\r\n0\r\n\r\n",
    ])
    func isAccepted(text: String) {
        let outcomes = Feed.everyWay(bytes(text)).outcomes
        #expect(outcomes.count == 1)
        guard case .request? = outcomes.first else {
            Issue.record("not accepted: \(outcomes)")
            return
        }
    }
}
