import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An incremental HTTP/1.x response parser with just what a load generator
/// needs: the status, whether the connection stays open, and where the body
/// ends. Bodies are skipped, never copied. NIOHTTP1's client codec would also
/// build a header dictionary and a body part per read for every response; at
/// tens of thousands of responses per second on two cores that costs the
/// server CPU it should be measured with.
struct ResponseParser {
    struct Response {
        var status: Int
        /// False when the server asked to close (or spoke HTTP/1.0 without keep-alive).
        var keepAlive: Bool
    }

    enum ParseError: Error, CustomStringConvertible {
        case headTooLarge
        case malformedStatusLine
        case malformedContentLength
        case chunkedNotSupported

        var description: String {
            switch self {
            case .headTooLarge: "response head larger than \(ResponseParser.maxHeadBytes) bytes"
            case .malformedStatusLine: "malformed status line"
            case .malformedContentLength: "malformed Content-Length"
            case .chunkedNotSupported: "chunked response (the servers measured here always send Content-Length)"
            }
        }
    }

    static let maxHeadBytes = 64 * 1024

    private enum State {
        case head
        case body(remaining: Int, Response)
        /// No Content-Length: the body ends when the server closes.
        case bodyUntilClose(Response)
    }

    private enum BodyLength {
        case known(Int)
        case untilClose
    }

    private var state = State.head

    /// Consumes response bytes from `buffer` and returns the response once its
    /// last byte has been consumed; bytes after it are left in `buffer`.
    mutating func parse(_ buffer: inout ByteBuffer) throws -> Response? {
        if case .head = state {
            let head = try buffer.withUnsafeReadableBytes { try Self.parseHead($0) }
            guard let head else {
                if buffer.readableBytes > Self.maxHeadBytes {
                    throw ParseError.headTooLarge
                }
                return nil
            }
            buffer.moveReaderIndex(forwardBy: head.length)
            switch head.body {
            case .known(0):
                return head.response
            case .known(let length):
                state = .body(remaining: length, head.response)
            case .untilClose:
                state = .bodyUntilClose(head.response)
            }
        }

        switch state {
        case .head:
            return nil
        case .body(let remaining, let response):
            let available = min(remaining, buffer.readableBytes)
            buffer.moveReaderIndex(forwardBy: available)
            if available == remaining {
                state = .head
                return response
            }
            state = .body(remaining: remaining - available, response)
            return nil
        case .bodyUntilClose:
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return nil
        }
    }

    /// The server closed: completes a response whose body runs to the end of
    /// the connection. Any other partial response is lost.
    mutating func endOfInput() -> Response? {
        defer { state = .head }
        if case .bodyUntilClose(let response) = state {
            return response
        }
        return nil
    }

    private struct Head {
        /// Bytes up to and including the blank line.
        var length: Int
        var response: Response
        var body: BodyLength
    }

    /// Parses the head at the start of `bytes` in one pass; nil if it is not complete yet.
    private static func parseHead(_ bytes: UnsafeRawBufferPointer) throws -> Head? {
        var lines = Lines(bytes)
        guard let statusLine = lines.next() else { return nil }
        let (minorVersion, status) = try parseStatusLine(statusLine)

        // HTTP/1.1 keeps the connection unless told otherwise; HTTP/1.0 closes unless told otherwise.
        var keepAlive = minorVersion >= 1
        var contentLength: Int?
        while let line = lines.next() {
            if line.isEmpty {
                let body = bodyLength(status: status, contentLength: contentLength)
                if case .untilClose = body {
                    keepAlive = false
                }
                return Head(length: lines.position, response: Response(status: status, keepAlive: keepAlive), body: body)
            }
            guard let colon = line.firstIndex(of: colon) else { continue }
            let name = line[..<colon]
            let value = trimmed(line[(colon + 1)...])
            if equalsIgnoringCase(name, "content-length") {
                guard let length = parseDecimal(value) else { throw ParseError.malformedContentLength }
                contentLength = length
            } else if equalsIgnoringCase(name, "connection") {
                if containsIgnoringCase(value, "close") {
                    keepAlive = false
                } else if containsIgnoringCase(value, "keep-alive") {
                    keepAlive = true
                }
            } else if equalsIgnoringCase(name, "transfer-encoding"), containsIgnoringCase(value, "chunked") {
                throw ParseError.chunkedNotSupported
            }
        }
        return nil
    }

    private static func bodyLength(status: Int, contentLength: Int?) -> BodyLength {
        // These statuses never carry a body, whatever the headers say (RFC 9112 section 6.3).
        if (100..<200).contains(status) || status == 204 || status == 304 {
            return .known(0)
        }
        return contentLength.map(BodyLength.known) ?? .untilClose
    }

    /// The lines of a head without their line ends, as slices of it (no copies).
    /// Stops, returning nil, at a line whose end has not arrived yet.
    private struct Lines: IteratorProtocol {
        private let bytes: UnsafeRawBufferPointer
        /// Where the next line starts: once the blank line is read, the head's length.
        private(set) var position = 0

        init(_ bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        mutating func next() -> Slice<UnsafeRawBufferPointer>? {
            guard position < bytes.count, let base = bytes.baseAddress,
                let found = memchr(base + position, Int32(lf), bytes.count - position)
            else {
                return nil
            }
            let end = base.distance(to: UnsafeRawPointer(found))
            var line = bytes[position..<end]
            position = end + 1
            if line.last == cr {
                line = line.dropLast()
            }
            return line
        }
    }

    /// "HTTP/1.1 200 OK" -> (1, 200)
    private static func parseStatusLine(_ line: Slice<UnsafeRawBufferPointer>) throws -> (Int, Int) {
        let s = line.startIndex
        guard line.count >= 12,
            line.starts(with: "HTTP/1.".utf8),
            line[s + 8] == space,
            let minor = digit(line[s + 7]),
            let d0 = digit(line[s + 9]), let d1 = digit(line[s + 10]), let d2 = digit(line[s + 11]),
            line.count == 12 || line[s + 12] == space
        else {
            throw ParseError.malformedStatusLine
        }
        return (minor, d0 * 100 + d1 * 10 + d2)
    }

    private static func digit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private static func parseDecimal(_ bytes: Slice<UnsafeRawBufferPointer>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard let d = digit(byte) else { return nil }
            value = value * 10 + d
        }
        return value
    }

    private static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start] == space || bytes[start] == tab { start += 1 }
        while end > start, bytes[end - 1] == space || bytes[end - 1] == tab { end -= 1 }
        return bytes[start..<end]
    }

    /// ASCII case-insensitive comparison with a lowercase literal.
    private static func equalsIgnoringCase(_ bytes: Slice<UnsafeRawBufferPointer>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        return lowercase.withUTF8Buffer { expected in
            zip(bytes, expected).allSatisfy { lowercased($0) == $1 }
        }
    }

    private static func containsIgnoringCase(_ bytes: Slice<UnsafeRawBufferPointer>, _ lowercase: StaticString) -> Bool {
        lowercase.withUTF8Buffer { needle in
            guard bytes.count >= needle.count else { return false }
            return (bytes.startIndex...(bytes.endIndex - needle.count)).contains { start in
                zip(bytes[start..<(start + needle.count)], needle).allSatisfy { lowercased($0) == $1 }
            }
        }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")
    private static let colon = UInt8(ascii: ":")
}
