import NIOCore
import NIOHTTP1

/// What a handler answers: a status, headers, and a body of bytes or a file range.
struct GuestResponse {
    enum Body {
        case bytes(ByteBuffer)
        /// A file streamed from disk, never read whole into memory.
        case file(path: String, offset: Int, length: Int)
        /// The event stream takes over the connection (see `EventStream`).
        case events(EventSubscription)
    }

    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: Body

    static func json(_ bytes: [UInt8]) -> GuestResponse {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(bytes.count + 1)
        buffer.writeBytes(bytes)
        buffer.writeInteger(UInt8(ascii: "\n"))
        return GuestResponse(status: .ok, headers: ["Content-Type": "application/json"], body: .bytes(buffer))
    }

    static func raw(_ bytes: [UInt8]) -> GuestResponse {
        GuestResponse(status: .ok, headers: ["Content-Type": "application/octet-stream"], body: .bytes(ByteBuffer(bytes: bytes)))
    }

    static func text(_ status: HTTPResponseStatus, _ message: String) -> GuestResponse {
        GuestResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"],
                      body: .bytes(ByteBuffer(string: message + "\n")))
    }

    static var empty: GuestResponse { .raw([]) }
}
