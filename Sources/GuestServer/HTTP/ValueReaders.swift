import GuestStore
import NIOCore

/// One event loop's database connections for sending large values (`ValueStream`), each
/// holding one value's snapshot while its answer goes out, and the loop's budget for them: at
/// most `perLoop` values at once, and `perInstance` of one instance's. An answer that finds
/// none free waits, instances in turn and each instance's oldest first, and takes the next one
/// let go of. So what peers that never read can hold, in memory and in snapshots pinned (each
/// for its answer's deadline at most: the idle time from its head, however slowly the peer
/// reads), is bounded for the daemon and for each instance, and one instance's waiting never
/// holds up another's.
///
/// Not Sendable: each loop has its own and uses it only on the loop.
final class ValueReaders {
    /// Values sent at once on a loop; the daemon's budget is this times its loops.
    static let perLoop = 16
    /// Of them, one instance's.
    static let perInstance = 2

    /// Tries again to take a reader: true when it took one, or needs one no more (its
    /// connection is gone); false when there is still none, and it stays first in its
    /// instance's line.
    typealias Retry = () -> Bool

    private let open: () throws -> Store
    private let loopLimit: Int
    private let instanceLimit: Int
    private var idle: [Store] = []
    private var made = 0
    private var heldBy: [Int: Int] = [:]
    /// Who waits, by instance: each with its token, to be taken out of line when its
    /// connection goes (`cancel`).
    private var waiting: [Int: CircularBuffer<(token: ObjectIdentifier, retry: Retry)>] = [:]
    /// The instances that wait, in turn: one served goes to the back.
    private var turns: [Int] = []
    /// A release is letting the waiting try: one that a retry causes only gives its reader
    /// back, and the outer one goes on.
    private var releasing = false

    /// `open` makes a connection, the first time one is needed.
    init(loopLimit: Int = ValueReaders.perLoop, instanceLimit: Int = ValueReaders.perInstance, open: @escaping () throws -> Store) {
        self.loopLimit = loopLimit
        self.instanceLimit = instanceLimit
        self.open = open
    }

    /// A reader for one of `instance`'s values, if one is free for it.
    func acquire(for instance: Int) throws -> Store? {
        let own = heldBy[instance, default: 0]
        guard own < instanceLimit, idle.count + (loopLimit - made) > 0 else { return nil }
        let reader: Store
        if let free = idle.popLast() {
            reader = free
        } else {
            reader = try open()
            made += 1
        }
        heldBy[instance] = own + 1
        return reader
    }

    /// Gives back a reader (its value ended), and lets those waiting try again.
    func release(_ reader: Store, for instance: Int) {
        reader.endValue()
        idle.append(reader)
        let own = heldBy[instance, default: 0] - 1
        heldBy[instance] = own > 0 ? own : nil
        guard !releasing else { return }
        releasing = true
        defer { releasing = false }
        // The first instance in turn whose oldest waiter takes a reader is served, and goes to
        // the back; again, until none can take one.
        while let served = turns.firstIndex(where: { instance in waiting[instance]?.first?.retry() ?? true }) {
            let instance = turns.remove(at: served)
            waiting[instance]?.removeFirst()
            if waiting[instance]?.isEmpty == false { turns.append(instance) } else { waiting[instance] = nil }
        }
    }

    /// `retry` runs once a reader is let go of, until it returns true, or `cancel(token)`.
    func wait(for instance: Int, token: ObjectIdentifier, _ retry: @escaping Retry) {
        if waiting[instance] == nil { turns.append(instance) }
        waiting[instance, default: []].append((token, retry))
    }

    /// Takes a waiter out of line (its connection is gone).
    func cancel(_ token: ObjectIdentifier, for instance: Int) {
        guard var line = waiting[instance], let index = line.firstIndex(where: { $0.token == token }) else { return }
        line.remove(at: index)
        if line.isEmpty {
            waiting[instance] = nil
            turns.removeAll { $0 == instance }
        } else {
            waiting[instance] = line
        }
    }

    /// Has every idle reader follow the database's epoch now (its file replaced or gone: let go of).
    func followIdle() {
        for reader in idle { _ = try? reader.follow() }
    }
}

@available(*, unavailable)
extension ValueReaders: Sendable {}
