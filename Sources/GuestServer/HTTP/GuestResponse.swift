import GuestHTTP
import GuestStore
import NIOCore
import NIOHTTP1

/// What a handler answers: a status, a content type, a few more fields, and a body of
/// bytes, a file range or an event stream.
struct GuestResponse {
    enum Body {
        case bytes([UInt8])
        /// A file streamed from disk, never read whole into memory.
        case file(path: String, offset: Int, length: Int)
        /// The event stream takes over the connection (see `EventSink`).
        case events(EventSubscription)
        /// A large value sent in pieces from the database as the peer reads (`ValueStream`).
        case value(ValueBody)
    }

    /// `prefix`, then `length` bytes of a stored value from `offset`.
    struct ValueBody {
        var prefix: [UInt8] = []
        var value: StoredValue
        var offset = 0
        var length: Int

        var count: Int { prefix.count + length }
    }

    /// Values up to this size are read whole and answered as bytes (and may be kept by
    /// `AnswerCache`); larger ones are sent in pieces of this size.
    static let wholeValueLimit = 64 << 10

    var status: HTTPResponseStatus
    var contentType: ContentType
    /// Fields beyond Content-Type, Content-Length and Connection, which the connection writes.
    var fields: [(name: String, value: String)] = []
    var body: Body
    /// The body's entity tag, quoted, when it has one (also among `fields`, as `ETag`).
    var etag: String?
    /// A minted identity token's audience and id, for the access log and the metrics (never
    /// the token).
    var minted: (audience: String, jti: String)?

    static func json(_ bytes: [UInt8]) -> GuestResponse {
        var bytes = bytes
        bytes.append(UInt8(ascii: "\n"))
        return GuestResponse(status: .ok, contentType: .json, body: .bytes(bytes))
    }

    static func raw(_ bytes: [UInt8]) -> GuestResponse {
        GuestResponse(status: .ok, contentType: .raw, body: .bytes(bytes))
    }

    static func text(_ status: HTTPResponseStatus, _ message: String) -> GuestResponse {
        GuestResponse(status: status, contentType: .text, body: .bytes(Array((message + "\n").utf8)))
    }

    static var empty: GuestResponse { .raw([]) }

    /// The answer named by `digest` (README, "Watching for changes").
    func tagged(_ digest: ContentDigest) -> GuestResponse {
        var tagged = self
        tagged.etag = digest.entityTag
        tagged.fields.append(("ETag", digest.entityTag))
        return tagged
    }

    /// The answer named by its body's digest.
    var tagged: GuestResponse {
        guard case .bytes(let bytes) = body else { preconditionFailure("only an answer of bytes is named by its bytes") }
        return tagged(ContentDigest(bytes))
    }

    /// 304 for a caller that has this answer already (`If-None-Match` names its tag), before
    /// any range is taken of it (RFC 9110, 13.2.2).
    func notModified(_ request: GuestRequest) -> GuestResponse? {
        guard status == .ok || status == .partialContent, let etag, request.noneMatchNames(etag) else { return nil }
        return GuestResponse(status: .notModified, contentType: contentType, fields: [("ETag", etag)], body: .bytes([]), etag: etag)
    }

    /// An answer of bytes, head and body, as one buffer: what is written for it.
    func encoded(minorVersion: Int, withBody: Bool, keepAlive: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard case .bytes(let bytes) = body else { preconditionFailure("only an answer of bytes is encoded whole") }
        let head = ResponseHead(
            status: status, minorVersion: minorVersion, contentType: contentType, fields: fields,
            framing: status == .notModified ? .none : .length(bytes.count), keepAlive: keepAlive)
        var buffer = allocator.buffer(capacity: 128 + head.fields.count * 64 + bytes.count)
        head.write(into: &buffer)
        if withBody { buffer.writeBytes(bytes) }
        return buffer
    }

    /// The body's size, for the access log; 0 for a stream.
    var bodyBytes: Int {
        switch body {
        case .bytes(let bytes): bytes.count
        case .file(_, _, let length): length
        case .events: 0
        case .value(let body): body.count
        }
    }
}
