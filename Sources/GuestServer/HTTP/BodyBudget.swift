import NIOCore

/// What one event loop's large answers may hold in memory at once: bytes read from the
/// database and not yet taken by the peers' sockets, for the loop as a whole and for each
/// instance. A value is sent a piece at a time (`ValueStream`), each piece read only once the
/// budget has room for it; a piece that must wait is asked for again as written pieces free
/// room, instances in turn and each instance's oldest first. So peers that never read cost the
/// daemon at most the budget, and one instance's at most its share of it, however many
/// connections they open; one instance's waiting never holds up another's.
///
/// Not Sendable: each loop has its own and uses it only on the loop.
final class BodyBudget {
    /// The most a loop holds; the daemon's budget is this times its loops.
    static let loopBytes = 32 << 20
    /// The most one instance's answers hold on a loop.
    static let instanceBytes = 4 << 20

    /// Tries again to take room: true when it took it, or needs it no more (its connection is
    /// gone); false when there is still none, and it stays first in its instance's line.
    typealias Retry = () -> Bool

    private let loopLimit: Int
    private let instanceLimit: Int
    private(set) var held = 0
    private var heldBy: [Int: Int] = [:]
    private var waiting: [Int: CircularBuffer<Retry>] = [:]
    /// The instances that wait, in turn.
    private var turns = CircularBuffer<Int>()
    /// A `give` is letting the waiting try: one that a retry causes (a write that failed at
    /// once) only gives its bytes back, and the outer one goes on.
    private var giving = false

    init(loopLimit: Int = BodyBudget.loopBytes, instanceLimit: Int = BodyBudget.instanceBytes) {
        self.loopLimit = loopLimit
        self.instanceLimit = instanceLimit
    }

    /// Takes `bytes` for `instance` if there is room (a piece larger than a share still goes
    /// out, when its instance holds nothing and the loop has room).
    func take(_ bytes: Int, for instance: Int) -> Bool {
        let own = heldBy[instance, default: 0]
        guard held + bytes <= loopLimit || held == 0, own + bytes <= instanceLimit || own == 0 else { return false }
        held += bytes
        heldBy[instance] = own + bytes
        return true
    }

    /// Gives back what `take` took, and lets those waiting try again.
    func give(_ bytes: Int, for instance: Int) {
        held -= bytes
        let own = heldBy[instance, default: 0] - bytes
        heldBy[instance] = own > 0 ? own : nil
        guard !giving else { return }
        giving = true
        defer { giving = false }
        for _ in 0..<turns.count {
            guard held < loopLimit, let next = turns.popFirst() else { break }
            while let retry = waiting[next]?.first, retry() { waiting[next]?.removeFirst() }
            if waiting[next]?.isEmpty == false { turns.append(next) } else { waiting[next] = nil }
        }
    }

    /// `retry` runs once some room is freed, until it returns true.
    func wait(for instance: Int, _ retry: @escaping Retry) {
        if waiting[instance] == nil { turns.append(instance) }
        waiting[instance, default: []].append(retry)
    }
}

@available(*, unavailable)
extension BodyBudget: Sendable {}
