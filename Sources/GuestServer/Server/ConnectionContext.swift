import GuestStore
import NIOCore

/// Per-connection state shared by the connection's handlers: who called, and what that
/// resolved to. Lives on the connection's event loop only.
final class ConnectionContext {
    let credentials: PeerCredentials?
    /// The instance matched on accept, and its generation then; nil when no rule matched.
    var match: IdentityMatch?
    /// Set by the WebSocket upgrader's check, taken by the stream it starts.
    var pendingSubscription: EventSubscription?

    init(credentials: PeerCredentials?, match: IdentityMatch?) {
        self.credentials = credentials
        self.match = match
    }
}
