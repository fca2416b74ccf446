import NIOCore

/// Whether a log line about something (a process, by its pid) may be written now: once a
/// minute for each, so that a caller flooding the socket costs the log one line a minute.
/// Bounded: entries older than a minute go when it grows. Not Sendable: one thread's (the
/// acceptor's).
struct LogRateLimit {
    private var said: [Int: NIODeadline] = [:]
    private var prunedAt = NIODeadline.uptimeNanoseconds(0)
    private let interval = TimeAmount.minutes(1)
    private static let bound = 4096

    mutating func allow(_ pid: Int, now: NIODeadline = .now()) -> Bool {
        if let last = said[pid], now - last < interval { return false }
        // Full: pruned at most once a second, so that a flood of new pids costs a lookup each.
        if said.count >= Self.bound && now - prunedAt >= .seconds(1) {
            prunedAt = now
            said = said.filter { now - $0.value < interval }
        }
        guard said.count < Self.bound else { return false }
        said[pid] = now
        return true
    }
}
