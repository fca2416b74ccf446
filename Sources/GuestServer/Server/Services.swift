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
}
