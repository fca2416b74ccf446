import GuestStore
import NIOCore

/// What a handler knows beside the request: whose it is (the caller's instance, resolved and
/// authorized) and where to read and write. (No handler logs: a failure's line, with the
/// instance's name, is the connection's to write.)
struct RequestContext {
    let instance: GuestInstance
    /// The loop's reader, in this tick's snapshot.
    let store: Store
    /// For writes, which go through the writer and answer later.
    let stores: StorePool
    let loop: EventLoop
}
