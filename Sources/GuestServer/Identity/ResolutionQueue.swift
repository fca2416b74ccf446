import GuestStore
import NIOCore

/// Callers waiting to be resolved, served so that no caller holds up the others: processes in
/// turn, cheapest first (README, "How a caller is recognized").
///
/// A multi-level feedback queue: a new caller enters the first level, whose step is small
/// (enough for most callers to be decided: a namespace lookup, or a couple of ancestors); a
/// caller that uses its whole step goes down a level, where steps are longer and come only
/// when no level above has work. A caller 256 levels deep is decided as surely as before, but
/// every caller that arrives meanwhile waits for at most one step of it. In the first level,
/// processes take turns: a process that opened hundreds of connections at once has its first
/// served beside every other process's first, not before them.
///
/// A process is resolved once however many of its connections wait: a connection of a process
/// whose resolution is under way follows it (by the process's pidfs inode, as
/// `ResolutionMemo` names it) and takes its outcome. Decided, the followers go back to their
/// process's turn, one a turn like any other callers: 300 connections of one caller, each
/// refused in a few microseconds, would otherwise hold everyone else for milliseconds.
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
        /// Its process's outcome, when it followed that process's resolution.
        var decided: Resolution.Outcome?
    }

    /// The first level: each process's new callers, and the processes in turn.
    private var fresh: [Int: CircularBuffer<Entry>] = [:]
    private var turns = CircularBuffer<Int>()
    /// The levels below, oldest first.
    private var levels = Array(repeating: CircularBuffer<Entry>(), count: quanta.count - 1)
    /// Connections waiting for a resolution of their process under way, by its inode.
    private var followers: [UInt64: [Entry]] = [:]
    /// Callers waiting, by pid.
    private var waiting: [Int: Int] = [:]
    private(set) var count = 0
    /// Outcomes of the rules for processes seen lately; used when the kernel names processes
    /// for good (`HostFacts.pidfsInodes`).
    private var memo = ResolutionMemo()

    var isEmpty: Bool { count == 0 }

    /// Queues the caller; false when its process already has `limit` connections waiting.
    mutating func add(_ peer: PeerProcess, descriptor: CInt, limit: Int) -> Bool {
        guard waiting[peer.pid, default: 0] < limit else { return false }
        waiting[peer.pid, default: 0] += 1
        if fresh[peer.pid] == nil { turns.append(peer.pid) }
        fresh[peer.pid, default: []].append(Entry(resolution: Resolution(peer: peer), descriptor: descriptor))
        count += 1
        return true
    }

    /// Gives the most deserving caller one step. Returns the caller with its outcome if that
    /// decided it.
    mutating func step(host: HostFacts, store: Store) -> (Entry, Resolution.Outcome)? {
        guard let (picked, level) = next() else { return nil }
        var entry = picked
        if let outcome = entry.decided {
            finished(entry)
            return (entry, outcome)
        }
        let started = NIODeadline.now()
        var outcome: Resolution.Outcome?
        if entry.isNew, host.pidfsInodes {
            entry.isNew = false
            outcome = memo.recall(&entry.resolution, revision: store.revision, now: started)
            if outcome == nil, let process = entry.resolution.process, followers[process] != nil {
                // Its process is being resolved: it takes that outcome.
                followers[process]?.append(entry)
                return nil
            }
            if outcome == nil, let process = entry.resolution.process { followers[process] = [] }
        }
        if outcome == nil {
            outcome = entry.resolution.advance(budget: Self.quanta[level], host: host, store: store)
            if let outcome { memo.remember(entry.resolution, outcome: outcome, now: started) }
        }
        entry.nanoseconds += (NIODeadline.now() - started).nanoseconds
        guard let outcome else {
            levels[min(level, levels.count - 1)].append(entry)
            return nil
        }
        if let process = entry.resolution.process, let waiting = followers.removeValue(forKey: process), !waiting.isEmpty {
            requeue(
                waiting.map { follower in
                    var follower = follower
                    if let startTime = entry.resolution.peer.startTime {
                        _ = follower.resolution.recalled(outcome, rule: entry.resolution.rule, startTime: startTime)
                    }
                    follower.decided = outcome
                    return follower
                }, pid: entry.resolution.peer.pid)
        }
        finished(entry)
        return (entry, outcome)
    }

    /// Puts decided followers first in their process's line, which takes its turn again.
    private mutating func requeue(_ decided: [Entry], pid: Int) {
        guard let callers = fresh.removeValue(forKey: pid) else {
            fresh[pid] = CircularBuffer(decided)
            turns.append(pid)
            return
        }
        fresh[pid] = CircularBuffer(decided + Array(callers))
    }

    /// The caller to step, and its level: a fresh one of the next process in turn, else the
    /// oldest of the highest level below.
    private mutating func next() -> (Entry, Int)? {
        if let pid = turns.popFirst(), var callers = fresh.removeValue(forKey: pid) {
            let entry = callers.removeFirst()
            if !callers.isEmpty {
                fresh[pid] = callers
                turns.append(pid)
            }
            return (entry, 0)
        }
        guard let level = levels.firstIndex(where: { !$0.isEmpty }) else { return nil }
        return (levels[level].removeFirst(), level + 1)
    }

    private mutating func finished(_ entry: Entry) {
        count -= 1
        let pid = entry.resolution.peer.pid
        waiting[pid] = waiting[pid] == 1 ? nil : waiting[pid].map { $0 - 1 }
    }
}
