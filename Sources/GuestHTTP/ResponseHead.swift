import ASCIINumbers
import NIOCore
import NIOHTTP1

/// Writes a response's status line and header fields, as every answer is sent: in the
/// request's HTTP version, with Content-Type, then the body's framing, then whether the
/// connection stays open.
public struct ResponseHead {
    public enum Framing {
        case length(Int)
        /// A body of unknown length: chunked on HTTP/1.1; on HTTP/1.0 it ends at the close.
        case stream
        /// No body and no length: a 304, whose length would be the body it stands for.
        case none
    }

    public var status: HTTPResponseStatus
    public var minorVersion: Int
    public var contentType: ContentType
    public var fields: [(name: String, value: String)]
    public var framing: Framing
    public var keepAlive: Bool

    public init(
        status: HTTPResponseStatus, minorVersion: Int, contentType: ContentType, fields: [(name: String, value: String)],
        framing: Framing, keepAlive: Bool
    ) {
        self.status = status
        self.minorVersion = minorVersion
        self.contentType = contentType
        self.fields = fields
        self.framing = framing
        self.keepAlive = keepAlive
    }

    public func write(into buffer: inout ByteBuffer) {
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
        case .none:
            break
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
    public mutating func writeDecimal(_ value: Int) {
        precondition(value >= 0)
        DecimalDigits.withDigits(of: UInt(value)) { _ = writeBytes($0) }
    }
}
