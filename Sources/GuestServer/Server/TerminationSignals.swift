import Dispatch
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT stop the daemon; SIGHUP (a closed terminal, or an operator's habit of
/// asking a daemon to reload) never does: there is nothing to reload, every change is read live.
/// Caught from the moment this is made, so that a stop signal is never lost or fatal.
struct TerminationSignals {
    private let stop = DispatchSemaphore(value: 0)
    private let sources: [DispatchSourceSignal]

    init(logger: Logger) {
        let registered = DispatchSemaphore(value: 0)
        sources = [SIGTERM, SIGINT, SIGHUP].map { [stop] number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                guard number != SIGHUP else {
                    return logger.info("SIGHUP ignored: guestapid reads every change as it is committed; nothing to reload")
                }
                stop.signal()
            }
            source.setRegistrationHandler { registered.signal() }
            source.resume()
            return source
        }
        // Dispatch installs a source after `resume()` returns: until then a signal is lost.
        for _ in sources { registered.wait() }
    }

    /// Until SIGTERM or SIGINT, which may have come already.
    func wait() {
        stop.wait()
        sources.forEach { $0.cancel() }
    }
}
