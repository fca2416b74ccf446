import NIOCore

/// Accepting connections failing (out of descriptors, most likely): the acceptor pauses a
/// moment after each failure, and says so at most once a minute each way, however often
/// accepting flaps between failing and working. Not Sendable: the acceptor's thread owns it.
struct AcceptFailures {
    /// How long accepting pauses after a failure.
    static let pause = TimeAmount.milliseconds(10)

    /// When it last failed (nil once it works again), when that was last said, failures since
    /// the daemon said it accepts again, and whether it owes a line saying it works again.
    private var last: NIODeadline?
    private var said: NIODeadline?
    private var count = 0
    private var owesRecovery = false

    /// Counts a failure; true when it is to be said now.
    mutating func failed(now: NIODeadline) -> Bool {
        last = now
        count += 1
        guard said.map({ now - $0 >= .seconds(60) }) ?? true else { return false }
        said = now
        owesRecovery = true
        return true
    }

    /// Accepting worked: the failed tries to report, once, if a failure was said.
    mutating func succeeded() -> Int? {
        last = nil
        guard owesRecovery else { return nil }
        defer { (count, owesRecovery) = (0, false) }
        return count
    }

    /// How long accepting still pauses after the last failure, if it does.
    func pause(now: NIODeadline) -> TimeAmount? {
        last.map { $0 + Self.pause - now }
    }
}
