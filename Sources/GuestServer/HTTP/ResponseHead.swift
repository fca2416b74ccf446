import NIOCore
import NIOHTTP1

/// Writes a response's status line and header fields, as every answer is sent: in the
/// request's HTTP version, with Content-Type, then the body's framing, then whether the
/// connection stays open.
struct ResponseHead {
    enum Framing {
        case length(Int)
        /// A body of unknown length: chunked on HTTP/1.1; on HTTP/1.0 it ends at the close.
        case stream
    }

    var status: HTTPResponseStatus
    var minorVersion: Int
    var contentType: GuestResponse.ContentType
    var fields: [(name: String, value: String)]
    var framing: Framing
    var keepAlive: Bool

    func write(into buffer: inout ByteBuffer) {
        if status == .ok && minorVersion == 1 {
            buffer.writeStaticString(contentType.okHead)
        } else {
            buffer.writeStaticString(minorVersion == 0 ? "HTTP/1.0 " : "HTTP/1.1 ")
            buffer.writeDecimal(Int(status.code))
            buffer.writeStaticString(" ")
            buffer.writeString(status.reasonPhrase)
            buffer.writeStaticString("\r\nContent-Type: ")
            buffer.writeStaticString(contentType.value)
        }
        for field in fields {
            buffer.writeStaticString("\r\n")
            buffer.writeString(field.name)
            buffer.writeStaticString(": ")
            buffer.writeString(field.value)
        }
        switch framing {
        case .length(let length):
            buffer.writeStaticString("\r\nContent-Length: ")
            buffer.writeDecimal(length)
        case .stream:
            if minorVersion == 1 { buffer.writeStaticString("\r\nTransfer-Encoding: chunked") }
        }
        if !keepAlive {
            buffer.writeStaticString("\r\nConnection: close")
        } else if minorVersion == 0 {
            buffer.writeStaticString("\r\nConnection: keep-alive")
        }
        buffer.writeStaticString("\r\n\r\n")
    }
}

extension ByteBuffer {
    /// A non-negative integer in decimal ASCII, without making a String of it.
    mutating func writeDecimal(_ value: Int) {
        precondition(value >= 0)
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for Int.max's 19 digits
        withUnsafeMutableBytes(of: &digits) { room in
            var rest = value, start = room.count
            repeat {
                start -= 1
                room[start] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            writeBytes(UnsafeRawBufferPointer(rebasing: room[start...]))
        }
    }
}
