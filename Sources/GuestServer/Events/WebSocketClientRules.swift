import NIOCore
import NIOWebSocket

/// What RFC 6455 asks of a client's frames that NIO's decoder leaves to the server: every
/// frame masked, no reserved bit without an extension (none is negotiated here), and a close
/// answered with a code that may be sent on the wire.
enum WebSocketClientRules {
    /// True when the frame breaks the protocol: the stream must end with 1002.
    static func isViolation(_ frame: WebSocketFrame) -> Bool {
        frame.maskKey == nil || frame.rsv1 || frame.rsv2 || frame.rsv3
    }

    /// The code to answer a client's close frame with: its own when it is one a peer may send,
    /// else 1002 (a one-byte payload, or 1005/1006/1015 and unassigned codes, which are never
    /// sent, so echoing them would break the protocol in turn).
    static func closeReply(to payload: ByteBuffer) -> WebSocketErrorCode {
        var payload = payload
        switch payload.readableBytes {
        case 0: return .normalClosure
        case 1: return .protocolError
        default:
            guard let code = payload.readInteger(as: UInt16.self) else { return .protocolError }
            switch code {
            case 1000...1003, 1007...1014, 3000...4999: return WebSocketErrorCode(codeNumber: Int(code))
            default: return .protocolError
            }
        }
    }
}
