import NIOCore

/// What the rules found for a process, remembered for its next connections: a caller that
/// connects once a request (curl, cloud-init, a health check) is resolved once, not once a
/// connection, which would read `/proc` three to five times each.
///
/// Remembered by process, not by pid: the key is the pidfs inode number of the connection's
/// pidfd, which the kernel gives no other process, and the caller must still be running when
/// asked. An outcome holds while the database is unchanged (the store's snapshot revision: any
/// commit, by the daemon or the CLI, forgets everything) and for one second at most. That is
/// what a connection kept open gets anyway: bound on accept, it keeps its instance while the
/// process runs and the instance is unchanged; this bounds the same to a second across
/// connections (a process moved to another cgroup, or orphaned, is seen within it).
///
/// Bounded: at most `capacity` processes are remembered; the next one starts it afresh (a
/// guest that floods it costs others no more than having no memo would). Not Sendable: the
/// acceptor's thread owns it.
struct ResolutionMemo {
    static let lifetime = TimeAmount.seconds(1)
    let capacity: Int

    private struct Remembered {
        let pid: Int
        let startTime: Int
        let outcome: Resolution.Outcome
        let rule: String?
        let until: NIODeadline
    }

    private var remembered: [UInt64: Remembered] = [:]
    private var revision: Int?

    init(capacity: Int = 4096) { self.capacity = capacity }

    /// Processes remembered now.
    var count: Int { remembered.count }

    /// The outcome remembered for the caller's process, taken into `resolution`; nil when
    /// there is none, and then `resolution` carries the process's inode, for `remember`. A
    /// caller gone already is unmatched.
    mutating func recall(_ resolution: inout Resolution, revision: Int, now: NIODeadline) -> Resolution.Outcome? {
        if revision != self.revision {
            remembered.removeAll(keepingCapacity: true)
            self.revision = revision
        }
        let inode: UInt64
        do {
            guard let running = try resolution.peer.pidfsInode() else { return .unmatched }
            inode = running
        } catch {
            // No descriptor for the pidfd now: the rules say what they can.
            return nil
        }
        guard let entry = remembered[inode], entry.pid == resolution.peer.pid, now < entry.until else {
            resolution.process = inode
            return nil
        }
        return resolution.recalled(entry.outcome, rule: entry.rule, startTime: entry.startTime)
    }

    /// Keeps what the rules decided for a caller that `recall` did not know, if it is an
    /// answer about the process (matched, or no rule matched, with the caller still running).
    mutating func remember(_ resolution: Resolution, outcome: Resolution.Outcome, now: NIODeadline) {
        guard let inode = resolution.process, let startTime = resolution.peer.startTime else { return }
        switch outcome {
        case .matched, .unmatched: break
        case .unavailable, .failed: return
        }
        if remembered.count >= capacity { remembered.removeAll(keepingCapacity: true) }
        remembered[inode] = Remembered(
            pid: resolution.peer.pid, startTime: startTime, outcome: outcome,
            rule: resolution.rule, until: now + Self.lifetime)
    }
}
