import GuestStore
import NIOCore

/// Per-connection state: who called, and what that resolved to. Lives on the connection's
/// event loop only.
final class ConnectionContext {
    let credentials: PeerCredentials?
    /// The instance matched on accept, and its generation then; nil when no rule matched.
    var match: IdentityMatch?

    init(credentials: PeerCredentials?, match: IdentityMatch?) {
        self.credentials = credentials
        self.match = match
    }
}
