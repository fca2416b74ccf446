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

    /// The caller's instance as committed now. A deleted or re-attached instance is
    /// resolved again from the connection's credentials.
    func instance(for connection: ConnectionContext, store: Store) throws -> GuestInstance {
        guard let credentials = connection.credentials else { throw GuestError.notInContainer }
        // Nothing was committed since it was read: no query needed.
        if store.inSnapshot, let known = connection.instance, known.revision == store.revision {
            return try authorized(known.value, credentials)
        }
        connection.instance = nil
        var instance: GuestInstance?
        if let match = connection.match, let current = try store.guestInstance(id: match.instanceID),
           current.generation == match.generation {
            instance = current
        } else {
            connection.match = try resolver.resolve(pid: credentials.pid, in: store)
            instance = try connection.match.flatMap { try store.guestInstance(id: $0.instanceID) }
        }
        guard let instance else { throw GuestError.notInContainer }
        if store.inSnapshot { connection.instance = (instance, store.revision) }
        return try authorized(instance, credentials)
    }

    private func authorized(_ instance: GuestInstance, _ credentials: PeerCredentials) throws -> GuestInstance {
        guard instance.rootUID == credentials.uid else { throw GuestError.nonRootUser }
        return instance
    }
}
