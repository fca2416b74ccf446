import GuestHTTP
import GuestStore
import HostProcess

/// Which instance a connection's process belongs to, by the rules (README, "How a caller is recognized") in
/// order: PID namespace, ancestry, cgroup, LXC monitor. Each rule is an indexed lookup.
///
/// Worked out in steps, each reading at most a given number of `/proc` files, so that a
/// caller that is costly to resolve (256 levels deep, say) can be set aside while cheaper
/// ones go first (`ResolutionQueue`). Whatever the rules find counts only if the peer is still
/// running at the end: then every file read under its pid was its own. The peer then keeps
/// its start time as the proof of who it is (`PeerProcess`).
struct Resolution {
    enum Outcome: Equatable, Sendable {
        case matched(IdentityMatch)
        /// No rule matched, or the peer is gone.
        case unmatched
        /// `/proc` could not be read now (out of descriptors, say): retryable.
        case unavailable
        /// The database failed, as said.
        case failed(String)
    }

    /// One process on the way up from the caller.
    private struct Link {
        var pid: Int
        var parent: Int
        var startTime: Int
        /// When its stat was read, in the same clock ticks as start times.
        var readAt: Int
    }

    private enum Phase {
        case namespace, ancestry, cgroup
        /// The LXC monitor rule, at this index of the chain.
        case monitor(Int)
    }

    private(set) var peer: PeerProcess
    /// The rule that matched, once one has: namespace, ancestry, cgroup or lxc_monitor.
    private(set) var rule: String?
    /// `/proc` reads so far: the work this caller has cost.
    private(set) var spent = 0
    /// The caller's process by its pidfs inode, when `ResolutionMemo` looked for it.
    var process: UInt64?
    /// The outcome came from `ResolutionMemo`, not from the rules.
    private(set) var remembered = false
    private var phase = Phase.namespace
    /// The caller's PID namespace, as the namespace rule read it.
    private var callerNamespace: Int?
    /// The caller, then its ancestors, as far as the ancestry rule walked.
    private var chain: [Link] = []

    init(peer: PeerProcess) {
        self.peer = peer
    }

    /// Runs to the end: for a connection checked again on its event loop.
    static func resolve(_ peer: PeerProcess, host: HostFacts, store: Store) -> Outcome {
        var resolution = Resolution(peer: peer)
        while true {
            if let outcome = resolution.advance(budget: .max, host: host, store: store) { return outcome }
        }
    }

    /// Works until the rules decide or about `budget` files are read; nil: not decided yet.
    mutating func advance(budget: Int, host: HostFacts, store: Store) -> Outcome? {
        let limit = spent.addingReportingOverflow(budget)
        let stop = limit.overflow ? Int.max : limit.partialValue
        do {
            while spent < stop {
                switch phase {
                case .namespace:
                    if let match = try byNamespace(host: host, store: store) { return try finish(.matched(match), rule: "namespace") }
                    phase = .ancestry
                case .ancestry:
                    switch try climb(host: host, store: store) {
                    case .matched(let match): return try finish(.matched(match), rule: "ancestry")
                    case .peerGone: return .unmatched
                    case .continue: break
                    case .end: phase = .cgroup
                    }
                case .cgroup:
                    if let match = try byCgroup(host: host, store: store) { return try finish(.matched(match), rule: "cgroup") }
                    phase = .monitor(1)
                case .monitor(let index):
                    guard index < chain.count else { return try finish(.unmatched, rule: nil) }
                    if let match = try byMonitor(at: index, store: store) { return try finish(.matched(match), rule: "lxc_monitor") }
                    phase = .monitor(index + 1)
                }
            }
            return nil
        } catch is ProcFS.Unreadable {
            return .unavailable
        } catch {
            return .failed("\(error)")
        }
    }

    /// Takes what the rules found for this same process before (`ResolutionMemo`).
    mutating func recalled(_ outcome: Outcome, rule: String?, startTime: Int) -> Outcome {
        self.rule = rule
        remembered = true
        peer.keep(startTime: startTime)
        return outcome
    }

    /// The rules' verdict stands only for a peer still running now; its start time, read
    /// before, is then its own.
    private mutating func finish(_ outcome: Outcome, rule: String?) throws -> Outcome {
        self.rule = rule
        let startTime: Int
        if let caller = chain.first {
            startTime = caller.startTime
        } else {
            spent += 1
            guard let stat = try ProcFS.stat(peer.pid) else { return .unmatched }
            startTime = stat.startTime
        }
        guard try peer.isRunning() else { return .unmatched }
        peer.keep(startTime: startTime)
        return outcome
    }

    /// Rule 1: the caller's PID namespace is an instance's (never the daemon's own), and that
    /// instance's init still runs in it. The kernel hands a freed namespace's inode number out
    /// again: while the init runs, its namespace lives, so the number is still that namespace's.
    private mutating func byNamespace(host: HostFacts, store: Store) throws -> IdentityMatch? {
        spent += 1
        callerNamespace = try ProcFS.pidNamespaceInode(peer.pid)
        guard let inode = callerNamespace, inode != host.hostPIDNamespace,
            let match = try store.identityMatch(pidNamespaceInode: inode), let initPID = match.initPID
        else { return nil }
        spent += 2
        // The namespace first, the start time after: a start time still the init's proves the
        // init ran all along, so the namespace read before was its own.
        guard try ProcFS.pidNamespaceInode(initPID) == inode,
            let stat = try ProcFS.stat(initPID), stat.startTime == match.initStartTime
        else { return nil }
        return match
    }

    private enum Climb {
        case matched(IdentityMatch)
        case peerGone, `continue`, end
    }

    /// Rule 2, one level: the next process up, and whether it is a registered init with the
    /// start time recorded for it.
    private mutating func climb(host: HostFacts, store: Store) throws -> Climb {
        let pid = chain.last?.parent ?? peer.pid
        guard pid >= 1, chain.count < host.maxDepth else { return .end }
        spent += 1
        let readAt = ProcFS.ticksSinceBoot()
        guard let stat = try ProcFS.stat(pid) else { return chain.isEmpty ? .peerGone : .end }
        chain.append(Link(pid: pid, parent: stat.parentPID, startTime: stat.startTime, readAt: readAt))
        for match in try store.identityMatches(initPID: pid) where match.initStartTime == stat.startTime {
            return try chainHolds(below: chain.count - 1) ? .matched(match) : .end
        }
        return pid == 1 ? .end : .continue
    }

    /// Rule 3: a cgroup path at or under an instance's (never the root cgroup), for a caller
    /// in the instance's own PID namespace, or in the host's if the instance has none. A
    /// process put into a container's cgroup from anywhere else (another container, a
    /// `--pid=host` one) is not that container.
    private mutating func byCgroup(host: HostFacts, store: Store) throws -> IdentityMatch? {
        spent += 1
        var seen = Set<String>()
        // A hybrid host lists the same path for most hierarchies: each is looked up once.
        for path in try ProcFS.cgroups(peer.pid) ?? [] where seen.insert(path).inserted {
            var prefix = Substring(path)
            while prefix.utf8.count > 1 {
                if let match = try store.identityMatch(cgroup: String(prefix)) {
                    return callerNamespace == (match.pidNamespaceInode ?? host.hostPIDNamespace) ? match : nil
                }
                guard let slash = prefix.lastIndex(of: "/") else { break }
                prefix = prefix[..<slash]
            }
        }
        return nil
    }

    /// Rule 4: an `[lxc monitor] PATH NAME` ancestor, owned by root in the host PID namespace,
    /// that is the parent of the instance's registered init (which still runs): a title anyone
    /// may give a process names nothing by itself.
    private mutating func byMonitor(at index: Int, store: Store) throws -> IdentityMatch? {
        let pid = chain[index].pid
        spent += 1
        guard let cmdline = try ProcFS.cmdline(pid), let monitor = LXCMonitor(title: cmdline) else { return nil }
        spent += 2
        guard let status = try ProcFS.status(pid), status.uid == 0, status.namespaceDepth == 1,
            let match = try store.identityMatch(lxcPath: monitor.path, name: monitor.name),
            let initPID = match.initPID, let initStat = try ProcFS.stat(initPID),
            initStat.startTime == match.initStartTime, initStat.parentPID == pid
        else { return nil }
        return try chainHolds(below: index) ? match : nil
    }

    /// Whether each link below `index` held: the process read as a child's parent was the one
    /// that had its pid when the child was read. A parent started before that read held the
    /// pid then (a pid is one live process's), so its link holds as read. Only for a parent
    /// started within a tick of it (its pid may have been another's then) is the child read
    /// again: still running with that parent, it proves the link, since a child whose parent
    /// died gets a new one, never a pid that comes back.
    private mutating func chainHolds(below index: Int) throws -> Bool {
        for (link, parent) in zip(chain[..<index], chain.dropFirst()) where parent.startTime >= link.readAt - 1 {
            spent += 1
            guard let stat = try ProcFS.stat(link.pid), stat.startTime == link.startTime, stat.parentPID == link.parent else {
                return false
            }
        }
        return true
    }
}
