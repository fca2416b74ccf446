import GuestStore
import NIOCore

/// Per-connection state: who called, and what that resolved to. Lives on the connection's
/// event loop only.
final class ConnectionContext {
    /// The process that connected; nil when it could not be read at all.
    let peer: PeerProcess?
    /// The instance matched on accept, and its generation then; nil when no rule matched, and
    /// from the moment the instance is deleted or the process is no longer its.
    var match: IdentityMatch?
    /// Why identity could not be worked out on accept, if it could not: every request gets it.
    let failure: GuestError?

    init(_ admission: Acceptor.Admission) {
        peer = admission.peer
        switch admission.outcome {
        case .matched(let match): self.match = match; failure = nil
        case .unmatched: failure = nil
        case .unavailable: failure = .identityUnavailable
        case .failed(_): failure = .internalError
        }
    }
}

@available(*, unavailable)
extension ConnectionContext: Sendable {}
