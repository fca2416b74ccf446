import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Every `interval`: asks each event loop to answer and checks that the journal tailer went
/// round since last time; only then sends WATCHDOG=1, and STATUS= with what it counted.
final class Watchdog: Sendable {
    private let stopped = ConditionLock(value: false)
    private let finished = ConditionLock(value: false)

    /// `rounds`: how many times the journal tailer went round; it must change between pings.
    init(
        notifier: SystemdNotifier, interval: TimeAmount, loops: [EventLoop], rounds: @escaping @Sendable () -> Int,
        status: @escaping @Sendable () -> String
    ) {
        let thread = Thread { [stopped, finished] in
            ThreadName.set("guestapi-watch")
            var lastBeats = -1
            while !stopped.lock(whenValue: true, timeoutSeconds: Double(interval.nanoseconds) / 1e9) {
                let answered = loops.map { $0.submit {} }.allSatisfy { future in
                    let done = ConditionLock(value: false)
                    future.whenComplete { _ in
                        done.lock()
                        done.unlock(withValue: true)
                    }
                    guard done.lock(whenValue: true, timeoutSeconds: Double(interval.nanoseconds) / 1e9) else { return false }
                    done.unlock()
                    return true
                }
                let beats = rounds()
                if answered && beats != lastBeats { notifier.send("WATCHDOG=1\nSTATUS=\(status())") }
                lastBeats = beats
            }
            stopped.unlock()
            finished.lock()
            finished.unlock(withValue: true)
        }
        thread.start()
    }

    func stop() {
        stopped.lock()
        stopped.unlock(withValue: true)
        finished.lock(whenValue: true)
        finished.unlock()
    }
}
