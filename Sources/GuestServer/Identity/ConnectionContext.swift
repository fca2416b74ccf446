import GuestStore
import NIOCore

/// Per-connection state: who called, and what that resolved to. The one door every request
/// and every event stream asks who its caller is now (`instance(rules:store:)`). Lives on the
/// connection's event loop only.
final class ConnectionContext {
    /// The process that connected; nil when it could not be read at all.
    let peer: PeerProcess?
    /// The instance matched on accept, and its attach count then; nil when no rule matched, and
    /// from the moment the instance is deleted or the process is no longer its.
    var match: IdentityMatch?
    /// Why identity could not be worked out on accept, if it could not: every request gets it.
    let failure: GuestError?
    /// The snapshot revision in which `instance` last succeeded: within it, it would again.
    private var checkedRevision: Int?

    init(_ admission: Admission) {
        peer = admission.peer
        switch admission.outcome {
        case .matched(let match):
            self.match = match
            failure = nil
        case .unmatched: failure = nil
        case .unavailable: failure = .identityUnavailable
        case .failed(_): failure = .internalError
        }
    }

    /// The caller's instance as committed now (read once per snapshot revision: see
    /// `Store.guestInstance`). Never resolved again from a pid number: a deleted instance is
    /// gone for the connection for good, and one re-attached since keeps the connection only
    /// if the process that made it still runs and now resolves to that same instance. The
    /// instance's root user alone may use it.
    func instance(host: HostFacts, store: Store) throws -> GuestInstance {
        if let failure { throw failure }
        guard let match, let peer else { throw GuestError.notInContainer }
        let instance = try store.guestInstance(id: match.instanceID).flatMap { $0.stopped ? nil : $0 }
        if instance.map(match.isCurrent) != true {
            do {
                self.match = try Self.rematch(peer, to: instance, host: host, store: store)
            } catch {
                self.match = nil
                throw error
            }
        }
        guard let instance else { throw GuestError.notInContainer }
        guard instance.rootUID == peer.uid else { throw GuestError.nonRootUser }
        return instance
    }

    /// Throws what `instance` would, without making the instance: for an answer kept from
    /// earlier in the revision (`AnswerCache`).
    func check(host: HostFacts, store: Store) throws {
        if store.inSnapshot, checkedRevision == store.revision { return }
        _ = try instance(host: host, store: store)
        checkedRevision = store.inSnapshot ? store.revision : nil
    }

    /// The process's match to `instance` once the instance changed (re-attached, or the
    /// database reopened); throws when the instance is gone (or another under its id), the
    /// process is gone, or it now belongs elsewhere (or to no instance).
    private static func rematch(_ peer: PeerProcess, to instance: GuestInstance?, host: HostFacts, store: Store) throws -> IdentityMatch {
        guard let instance else { throw GuestError.notInContainer }
        switch Resolution.resolve(peer, host: host, store: store) {
        case .matched(let match) where match.instanceID == instance.id && match.createdNanoseconds == instance.createdNanoseconds:
            return match
        case .unavailable: throw GuestError.identityUnavailable
        case .failed(_): throw GuestError.internalError
        case .matched, .unmatched: throw GuestError.notInContainer
        }
    }
}

@available(*, unavailable)
extension ConnectionContext: Sendable {}
