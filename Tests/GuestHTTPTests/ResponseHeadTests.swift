import NIOCore
import NIOHTTP1
import Testing

@testable import GuestHTTP

@Suite("response heads")
struct ResponseHeadTests {
    static func written(
        _ contentType: ContentType, status: HTTPResponseStatus = .ok, minorVersion: Int = 1,
        fields: [(name: String, value: String)] = [], framing: ResponseHead.Framing, keepAlive: Bool = true
    ) -> String {
        var buffer = ByteBuffer()
        ResponseHead(
            status: status, minorVersion: minorVersion, contentType: contentType, fields: fields, framing: framing,
            keepAlive: keepAlive
        ).write(into: &buffer)
        return String(decoding: buffer.readableBytesView, as: UTF8.self)
    }

    @Test func okJSONKeptAlive() {
        #expect(
            Self.written(.json, framing: .length(18))
                == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n")
    }

    @Test func notFoundClosing() {
        #expect(
            Self.written(.text, status: .notFound, framing: .length(19), keepAlive: false)
                == "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 19\r\nConnection: close\r\n\r\n")
    }

    @Test func http10KeptAliveSaysSo() {
        // HTTP/1.0 closes by default: staying open must be said.
        #expect(
            Self.written(.raw, minorVersion: 0, framing: .length(0))
                == "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n")
        #expect(
            Self.written(.text, status: .forbidden, minorVersion: 0, framing: .length(15), keepAlive: false)
                == "HTTP/1.0 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 15\r\nConnection: close\r\n\r\n")
    }

    @Test func streamsAreChunkedOnlyOnHTTP11() {
        #expect(
            Self.written(.json, framing: .stream)
                == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        // HTTP/1.0 has no chunked coding: the stream ends when the connection does.
        #expect(
            Self.written(.json, minorVersion: 0, framing: .stream, keepAlive: false)
                == "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
    }

    @Test func extraFieldsComeInOrderBeforeTheFraming() {
        let fields = [
            (name: "Content-Disposition", value: "inline;filename=4f8a.tar.gz"),
            (name: "Content-Range", value: "bytes 0-9/100"), (name: "Accept-Ranges", value: "bytes"),
        ]
        #expect(
            Self.written(.raw, status: .partialContent, fields: fields, framing: .length(10))
                == "HTTP/1.1 206 Partial Content\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Disposition: inline;filename=4f8a.tar.gz\r\nContent-Range: bytes 0-9/100\r\nAccept-Ranges: bytes\r\n"
                + "Content-Length: 10\r\n\r\n")
        #expect(
            Self.written(.raw, fields: Array(fields.suffix(1)), framing: .length(100))
                == "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nAccept-Ranges: bytes\r\nContent-Length: 100\r\n\r\n")
    }

    @Test(arguments: [(0, "0"), (7, "7"), (10, "10"), (65536, "65536"), (Int.max, "9223372036854775807")])
    func decimals(value: Int, text: String) {
        var buffer = ByteBuffer(string: "<")
        buffer.writeDecimal(value)
        buffer.writeString(">")
        #expect(String(buffer: buffer) == "<" + text + ">")
    }
}
