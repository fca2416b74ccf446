import Logging

/// What runs beside the event loops (threads of their own, sockets), started in order and
/// stopped in reverse: what started last, and relies on what came before, stops first. Each
/// stops once, whether the daemon stops on a signal or fails part way through starting.
///
/// Not Sendable: the daemon's main thread starts and stops it.
final class Lifecycle {
    private var started: [(name: String, stop: () -> Void)] = []
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    /// Runs `start` (nothing, for a part that started when it was made), then keeps `stop`
    /// for `stopAll`.
    func start(_ name: String, _ start: () -> Void = {}, stop: @escaping () -> Void) {
        start()
        started.append((name, stop))
    }

    func stopAll() {
        while let part = started.popLast() {
            logger.debug("stopping \(part.name)")
            part.stop()
        }
    }
}

@available(*, unavailable)
extension Lifecycle: Sendable {}
