import Crypto
import Foundation
import GuestHTTP
import NIOCore
import NIOWebSocket

/// `GET /1.0/events` asking to upgrade becomes a WebSocket stream (RFC 6455 section 4.2):
/// the handshake's answer, and the handlers that take the connection over from HTTP.
enum WebSocketUpgrade {
    /// Frames from a client are at most this large (close 1009 beyond).
    static let maxFrameSize = 1 << 16

    /// The `Sec-WebSocket-Accept` value for a valid handshake; 400 for any other.
    static func accept(_ handshake: GuestRequest.WebSocketHandshake, minorVersion: Int) throws -> String {
        guard minorVersion == 1 else { throw GuestError.badRequest("WebSocket needs HTTP/1.1") }
        guard handshake.version == "13" else { throw GuestError.badRequest("unsupported WebSocket version: 13 required") }
        guard let key = handshake.key, !key.isEmpty else { throw GuestError.badRequest("one Sec-WebSocket-Key required") }
        let digest = Insecure.SHA1.hash(data: Data((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
        return Data(digest).base64EncodedString()
    }

    /// What NIO's own upgrader installs (frame codec, protocol errors answered with a close
    /// frame), then the stream's handler; with back-pressure, since a peer that never reads
    /// must not make us queue pongs.
    static func addHandlers(
        to pipeline: ChannelPipeline.SynchronousOperations, subscription: EventSubscription,
        services: Services, connection: ConnectionContext
    ) throws {
        try pipeline.addHandlers([
            BackPressureHandler(), WebSocketFrameEncoder(), ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)),
            WebSocketProtocolErrorHandler(),
            WebSocketEventHandler(subscription: subscription, services: services, connection: connection),
        ])
    }
}
