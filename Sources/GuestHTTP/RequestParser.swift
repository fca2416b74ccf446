import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// HTTP/1.1 request framing (RFC 9112), strict and incremental: fed a connection's unread
/// bytes, it takes one whole request at a time, head and body, and says what it found.
///
/// Strict because the daemon never trusts a guest: lines end in CRLF, the method is one
/// HTTP knows, the target is visible ASCII, header names are tokens and values hold no
/// control bytes, a body is framed by one Content-Length or by `chunked` alone. Whatever
/// it cannot frame exactly fails, and the connection must close, since nothing after it
/// can be trusted to start a request. Limits (README, "Limits a guest cannot pass") are checked as bytes
/// arrive: a head of 16 KiB, a body of 64 KiB. Plain value, no I/O.
public struct RequestParser {
    public enum Event {
        /// A whole request; its bytes were taken from the buffer.
        case request(GuestRequest)
        /// More bytes are needed.
        case needMore
        /// Not a request that can be served; after its answer the connection closes.
        case failure(Failure)
    }

    public enum Failure: Error, Equatable {
        case malformed
        case headTooLarge
        case bodyTooLarge
    }

    public struct Limits: Sendable {
        public var maxHeadBytes = 16 * 1024
        public var maxBodyBytes = 64 * 1024

        public init(maxHeadBytes: Int = 16 * 1024, maxBodyBytes: Int = 64 * 1024) {
            self.maxHeadBytes = maxHeadBytes
            self.maxBodyBytes = maxBodyBytes
        }
    }

    private enum State {
        /// Looking for the head's end. `scanned` bytes of the buffer were searched, the
        /// current line starts at `lineStart`, `skipped` empty lines' bytes came before it.
        case head(scanned: Int, lineStart: Int, skipped: Int)
        /// The head is parsed; `remaining` bytes of body follow.
        case fixedBody(GuestRequest, remaining: Int)
        case chunkedBody(GuestRequest, ChunkedBody)
        case failed(Failure)
    }

    let limits: Limits
    private var state = State.head(scanned: 0, lineStart: 0, skipped: 0)

    public init(limits: Limits) { self.limits = limits }

    /// Part of a request has arrived (bytes of its head, or its head without all its body).
    public func isPartial(_ buffer: ByteBuffer) -> Bool {
        if case .head = state { return buffer.readableBytes > 0 }
        return true
    }

    /// Takes the next request from `buffer`, if it is all there.
    public mutating func next(_ buffer: inout ByteBuffer) -> Event {
        switch state {
        case .failed(let failure):
            return .failure(failure)
        case .head(let scanned, let lineStart, let skipped):
            return readHead(&buffer, scanned: scanned, lineStart: lineStart, skipped: skipped)
        case .fixedBody(var request, let remaining):
            guard buffer.readableBytes >= remaining else { return .needMore }
            request.body = remaining > 0 ? buffer.readSlice(length: remaining) : nil
            state = .head(scanned: 0, lineStart: 0, skipped: 0)
            return .request(request)
        case .chunkedBody(var request, var chunked):
            switch chunked.read(&buffer, limits: limits) {
            case .needMore:
                state = .chunkedBody(request, chunked)
                return .needMore
            case .failure(let failure):
                return fail(failure)
            case .complete(let body):
                request.body = body
                state = .head(scanned: 0, lineStart: 0, skipped: 0)
                return .request(request)
            }
        }
    }

    private mutating func fail(_ failure: Failure) -> Event {
        state = .failed(failure)
        return .failure(failure)
    }

    private mutating func readHead(_ buffer: inout ByteBuffer, scanned: Int, lineStart: Int, skipped: Int) -> Event {
        var lineStart = lineStart
        var skipped = skipped
        var end: Int?
        // Only bytes within the limit are looked at: what lies past it cannot change the
        // verdict, however the bytes arrive (a bare LF there is still "too large").
        let malformed = buffer.withUnsafeReadableBytes { bytes -> Bool in
            let limit = min(bytes.count, limits.maxHeadBytes)
            var from = scanned
            // From line feed to line feed (memchr), the only bytes that end a line.
            while from < limit, let found = memchr(bytes.baseAddress! + from, CInt(UInt8(ascii: "\n")), limit - from) {
                let i = UnsafeRawPointer(found) - bytes.baseAddress!
                from = i + 1
                guard i > 0, bytes[i - 1] == UInt8(ascii: "\r") else { return true }
                guard i - 1 == lineStart else {
                    lineStart = i + 1
                    continue
                }
                // An empty line: before the request line, skipped (RFC 9112 section 2.2);
                // after it, the head's end.
                if lineStart == skipped {
                    skipped = i + 1
                    lineStart = i + 1
                    continue
                }
                end = i + 1
                return false
            }
            return false
        }
        if malformed { return fail(.malformed) }
        guard let end else {
            guard buffer.readableBytes <= limits.maxHeadBytes else { return fail(.headTooLarge) }
            state = .head(scanned: min(buffer.readableBytes, limits.maxHeadBytes), lineStart: lineStart, skipped: skipped)
            return .needMore
        }
        guard end <= limits.maxHeadBytes else { return fail(.headTooLarge) }
        let parsed = buffer.withUnsafeReadableBytes { bytes in
            HeadParser.parse(UnsafeRawBufferPointer(rebasing: bytes[skipped..<end]))
        }
        buffer.moveReaderIndex(forwardBy: end)
        guard case .success(let head) = parsed else {
            return fail(.malformed)
        }
        switch head.framing {
        case .none:
            state = .head(scanned: 0, lineStart: 0, skipped: 0)
            return .request(head.request)
        case .length(let length):
            guard length <= limits.maxBodyBytes else { return fail(.bodyTooLarge) }
            state = .fixedBody(head.request, remaining: length)
        case .chunked:
            state = .chunkedBody(head.request, ChunkedBody())
        }
        return next(&buffer)
    }
}
