import GuestStore
import Logging
import NIOCore

/// What every connection shares: the API, the database connections, identity, limits, events.
/// A class, so that each connection holds one reference to it, not a copy of every field.
final class Services: Sendable {
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

    init(api: GuestAPI, stores: StorePool, rules: IdentityRules, limiter: ConnectionLimiter, connections: ConnectionRegistry,
         events: EventHub, replays: ReplayReader, metrics: Metrics, limits: GuestConnectionHandler.Limits, logger: Logger) {
        self.api = api
        self.stores = stores
        self.rules = rules
        self.limiter = limiter
        self.connections = connections
        self.events = events
        self.replays = replays
        self.metrics = metrics
        self.limits = limits
        self.logger = logger
    }
}
