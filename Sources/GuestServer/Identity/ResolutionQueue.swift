import GuestStore
import NIOCore

/// Callers waiting to be resolved, served cheapest first so that a costly caller never holds
/// up the others (SPEC.md section 2).
///
/// A multi-level feedback queue: a new caller enters the first level, whose step is small
/// (enough for most callers to be decided: a namespace lookup, or a couple of ancestors); a
/// caller that uses its whole step goes down a level, where steps are longer and come only
/// when no level above has work. A caller 256 levels deep is decided as surely as before, but
/// every caller that arrives meanwhile waits for at most one step of it.
///
/// Not Sendable: the acceptor's thread owns it.
struct ResolutionQueue {
    /// `/proc` reads per step at each level.
    static let quanta = [4, 8, 16, 32]

    /// A caller's connection and how far its resolution got.
    struct Entry {
        var resolution: Resolution
        let descriptor: CInt
        /// Time spent resolving it so far (not waiting).
        var nanoseconds: Int64 = 0
        /// Not yet looked for in the memo.
        var isNew = true
    }

    private var levels = Array(repeating: CircularBuffer<Entry>(), count: quanta.count)
    /// Callers waiting, by pid.
    private var waiting: [Int: Int] = [:]
    private(set) var count = 0
    /// Outcomes of the rules for processes seen lately; used when the kernel names processes
    /// for good (`IdentityRules.pidfsInodes`).
    private var memo = ResolutionMemo()

    var isEmpty: Bool { count == 0 }

    /// Queues the caller; false when its process already has `limit` connections waiting.
    mutating func add(_ peer: PeerProcess, descriptor: CInt, limit: Int) -> Bool {
        guard waiting[peer.pid, default: 0] < limit else { return false }
        waiting[peer.pid, default: 0] += 1
        levels[0].append(Entry(resolution: Resolution(peer: peer), descriptor: descriptor))
        count += 1
        return true
    }

    /// Gives the most deserving caller one step. Returns it, with its outcome, once decided.
    mutating func step(rules: IdentityRules, store: Store) -> (Entry, Resolution.Outcome)? {
        guard let level = levels.firstIndex(where: { !$0.isEmpty }) else { return nil }
        var entry = levels[level].removeFirst()
        let started = NIODeadline.now()
        var outcome: Resolution.Outcome?
        if entry.isNew, rules.pidfsInodes {
            entry.isNew = false
            outcome = memo.recall(&entry.resolution, revision: store.revision, now: started)
        }
        if outcome == nil {
            outcome = entry.resolution.advance(budget: Self.quanta[level], rules: rules, store: store)
            if let outcome { memo.remember(entry.resolution, outcome: outcome, now: started) }
        }
        entry.nanoseconds += (NIODeadline.now() - started).nanoseconds
        if let outcome {
            count -= 1
            let pid = entry.resolution.peer.pid
            waiting[pid] = waiting[pid] == 1 ? nil : waiting[pid].map { $0 - 1 }
            return (entry, outcome)
        }
        levels[min(level + 1, levels.count - 1)].append(entry)
        return nil
    }
}
