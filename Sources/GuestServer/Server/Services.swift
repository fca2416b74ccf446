import GuestStore
import Logging
import NIOCore

/// What every guest connection shares: the API, the database connections, identity, limits,
/// events. Kept as one on purpose: the three that carry a connection through its life (the
/// acceptor, `GuestConnectionHandler` and `EventSink`, with its WebSocket handler) each use
/// most of the fields, and a handler is made per connection; one reference to a class costs a
/// connection 8 bytes where ten fields would cost ten references and ten parameters at every
/// step of the hand-over. Every field is a constant. Besides them only the admin socket, which
/// reports on all of it, takes the whole; the parts it holds (`ReplayReader`, `EventHub`,
/// `ConnectionRegistry`) are given what they use.
final class Services: Sendable {
    let api: GuestAPI
    let stores: StorePool
    let host: HostFacts
    let limiter: ConnectionLimiter
    let connections: ConnectionRegistry
    let events: EventHub
    let held: HeldRequests
    let replays: ReplayReader
    let metrics: Metrics
    let limits: GuestConnectionHandler.Limits
    let logger: Logger

    init(
        api: GuestAPI, stores: StorePool, host: HostFacts, limiter: ConnectionLimiter, connections: ConnectionRegistry,
        events: EventHub, held: HeldRequests, replays: ReplayReader, metrics: Metrics, limits: GuestConnectionHandler.Limits, logger: Logger
    ) {
        self.api = api
        self.stores = stores
        self.host = host
        self.limiter = limiter
        self.connections = connections
        self.events = events
        self.held = held
        self.replays = replays
        self.metrics = metrics
        self.limits = limits
        self.logger = logger
    }
}
