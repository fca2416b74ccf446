import GuestStore
import Logging
import NIOCore

/// What every connection shares: the API, the database connections, identity, limits, events.
struct Services: Sendable {
    let api: GuestAPI
    let stores: StorePool
    let resolver: IdentityResolver
    let limiter: ConnectionLimiter
    let events: EventHub
    let limits: GuestConnectionHandler.Limits
    let logger: Logger

    /// The caller's instance as committed now (read once per snapshot revision: see
    /// `Store.guestInstance`). A deleted or re-attached instance is resolved again from the
    /// connection's credentials.
    func instance(for connection: ConnectionContext, store: Store) throws -> GuestInstance {
        guard let credentials = connection.credentials else { throw GuestError.notInContainer }
        var instance: GuestInstance?
        if let match = connection.match, let current = try store.guestInstance(id: match.instanceID),
           current.generation == match.generation {
            instance = current
        } else {
            connection.match = try resolver.resolve(pid: credentials.pid, in: store)
            instance = try connection.match.flatMap { try store.guestInstance(id: $0.instanceID) }
        }
        guard let instance else { throw GuestError.notInContainer }
        guard instance.rootUID == credentials.uid else { throw GuestError.nonRootUser }
        return instance
    }
}
