import GuestStore
import Logging
import NIOCore

/// What every connection shares: the API, the database connections, identity, limits, events.
struct Services: Sendable {
    let api: GuestAPI
    let stores: StorePool
    let rules: IdentityRules
    let limiter: ConnectionLimiter
    let connections: ConnectionRegistry
    let events: EventHub
    let replays: ReplayReader
    let metrics: Metrics
    let limits: GuestConnectionHandler.Limits
    let logger: Logger

    /// The caller's instance as committed now (read once per snapshot revision: see
    /// `Store.guestInstance`). Never resolved again from a pid number: a deleted instance is
    /// gone for the connection for good, and one re-attached since keeps the connection only
    /// if the process that made it still runs and now resolves to that same instance.
    func instance(for connection: ConnectionContext, store: Store) throws -> GuestInstance {
        if let failure = connection.failure { throw failure }
        guard let match = connection.match, let peer = connection.peer else { throw GuestError.notInContainer }
        let instance = try store.guestInstance(id: match.instanceID).flatMap { $0.stopped ? nil : $0 }
        if instance.map(match.isCurrent) != true {
            do {
                connection.match = try stillBelongs(peer, to: instance, store: store)
            } catch {
                connection.match = nil
                throw error
            }
        }
        guard let instance else { throw GuestError.notInContainer }
        guard instance.rootUID == peer.uid else { throw GuestError.nonRootUser }
        return instance
    }

    /// The process's match to `instance` once the instance changed (re-attached, or the
    /// database reopened); throws when the instance is gone (or another under its id), the
    /// process is gone, or it now belongs elsewhere (or to no instance).
    func stillBelongs(_ peer: PeerProcess, to instance: GuestInstance?, store: Store) throws -> IdentityMatch {
        guard let instance else { throw GuestError.notInContainer }
        switch Resolution.resolve(peer, rules: rules, store: store) {
        case .matched(let match) where match.instanceID == instance.id && match.createdNs == instance.createdNs: return match
        case .unavailable: throw GuestError.identityUnavailable
        case .failed(_): throw GuestError.internalError
        case .matched, .unmatched: throw GuestError.notInContainer
        }
    }
}
