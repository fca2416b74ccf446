import NIOCore
import NIOWebSocket

/// How a stream's messages go on the wire.
extension EventSink {
    enum Transport {
        /// An HTTP/1.1 response body, one chunk per event.
        case chunked
        /// An HTTP/1.0 response body, ended by the close.
        case plain
        case webSocket
    }

    func write(_ payload: ByteBuffer, promise: EventLoopPromise<Void>?) {
        switch transport {
        case .chunked:
            var size = channel.allocator.buffer(capacity: 8)
            size.writeString(String(payload.readableBytes, radix: 16))
            size.writeStaticString("\r\n")
            channel.write(size, promise: nil)
            channel.write(payload, promise: nil)
            channel.write(channel.allocator.buffer(staticString: "\r\n"), promise: promise)
        case .plain:
            channel.write(payload, promise: promise)
        case .webSocket:
            channel.write(WebSocketFrame(fin: true, opcode: .text, data: payload), promise: promise)
        }
    }

    /// A piece of one message (a large event): a WebSocket gets it as a fragment of one text
    /// message (`first` opens it, `last` ends it), a plain stream as a chunk of the line.
    func writeFragment(_ payload: ByteBuffer, first: Bool, last: Bool, promise: EventLoopPromise<Void>?) {
        guard transport == .webSocket else {
            // An empty chunk would end a chunked body: an empty piece writes nothing.
            return payload.readableBytes == 0 ? channel.write(payload, promise: promise) : write(payload, promise: promise)
        }
        channel.write(WebSocketFrame(fin: last, opcode: first ? .text : .continuation, data: payload), promise: promise)
    }

    /// `payload` as the stream's framing wants it, appended to `buffer` (for a last message).
    func frame(_ payload: ByteBuffer, into buffer: inout ByteBuffer) {
        var payload = payload
        if transport == .chunked {
            buffer.writeString(String(payload.readableBytes, radix: 16))
            buffer.writeStaticString("\r\n")
            buffer.writeBuffer(&payload)
            buffer.writeStaticString("\r\n")
        } else {
            buffer.writeBuffer(&payload)
        }
    }
}
