import GuestStore
import Logging
import NIOCore

/// What a handler knows beside the request: whose it is (the caller's instance, resolved and
/// authorized) and where to read, write and log.
struct RequestContext {
    let instance: GuestInstance
    /// The loop's reader, in this tick's snapshot.
    let store: Store
    /// For writes, which go through the writer and answer later.
    let stores: StorePool
    let loop: EventLoop
    let daemonLogger: Logger

    /// The daemon's logger with `instance=NAME`; made when a handler logs, not per request.
    var logger: Logger {
        var logger = daemonLogger
        logger[metadataKey: "instance"] = "\(instance.name)"
        return logger
    }
}
