import Foundation
import Testing

/// The daemon's counters, read from `/metrics` on its admin socket: what a test waits on when
/// it waits for the daemon to have done something it shows nowhere else (a stream cut off, a
/// hook refused).
enum DaemonMetrics {
    /// The counter `name` (no labels), or nil when the daemon does not show it.
    static func counter(_ state: TemporaryState, _ name: String) throws -> Int? {
        let body = try OperationsTests.admin(state, "/metrics").body
        return body.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ").last ?? "") }
    }

    /// Waits until the counter `name` is at least `value`; returns what it is then.
    @discardableResult
    static func wait(_ state: TemporaryState, _ name: String, atLeast value: Int, timeout: Duration = .seconds(20)) throws -> Int {
        let deadline = Date().addingTimeInterval(timeout.timeInterval)
        while true {
            let now = try counter(state, name) ?? 0
            if now >= value { return now }
            guard Date() < deadline else { throw DaemonMetricsError.timedOut(name: name, value: now, wanted: value) }
            usleep(20_000)
        }
    }
}

enum DaemonMetricsError: Error, CustomStringConvertible {
    case timedOut(name: String, value: Int, wanted: Int)

    var description: String {
        switch self {
        case .timedOut(let name, let value, let wanted): "\(name) stayed at \(value), short of \(wanted)"
        }
    }
}
