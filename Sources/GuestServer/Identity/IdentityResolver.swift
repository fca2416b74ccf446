import GuestStore
import HostProcess
#if canImport(Glibc)
import Glibc
#endif

/// Maps a process to the instance it belongs to, by the four rules of SPEC.md section 2,
/// in order. Each rule is an indexed lookup; none scans the instances.
struct IdentityResolver: Sendable {
    /// The daemon's own PID namespace: the namespace rule never applies to it.
    let hostPIDNamespace: Int?

    init() {
        hostPIDNamespace = ProcFS.pidNamespaceInode(Int(getpid()))
    }

    func resolve(pid: Int, in store: Store) throws -> IdentityMatch? {
        var ancestry: [Int] = []
        if let match = try byAncestry(pid: pid, store: store, visited: &ancestry) { return match }
        if let match = try byNamespace(pid: pid, store: store) { return match }
        if let match = try byCgroup(pid: pid, store: store) { return match }
        return try byLXCMonitor(ancestry: ancestry, store: store)
    }

    /// Rule 1: the first ancestor that is a registered init, with the recorded start time.
    private func byAncestry(pid: Int, store: Store, visited: inout [Int]) throws -> IdentityMatch? {
        var current = pid
        while current >= 1, visited.count < 4096 {
            guard let stat = ProcFS.stat(current) else { return nil }
            visited.append(current)
            for match in try store.identityMatches(initPID: current) where match.initStartTime == stat.startTime {
                return match
            }
            if current == 1 { return nil }
            current = stat.parentPID
        }
        return nil
    }

    /// Rule 2: the caller's PID namespace is an instance's (never the daemon's own).
    private func byNamespace(pid: Int, store: Store) throws -> IdentityMatch? {
        guard let inode = ProcFS.pidNamespaceInode(pid), inode != hostPIDNamespace else { return nil }
        return try store.identityMatch(pidNamespaceInode: inode)
    }

    /// Rule 3: a cgroup path at or under an instance's cgroup (never the root cgroup).
    private func byCgroup(pid: Int, store: Store) throws -> IdentityMatch? {
        for path in ProcFS.cgroups(pid) {
            var prefix = Substring(path)
            while prefix.count > 1 {
                if let match = try store.identityMatch(cgroup: String(prefix)) { return match }
                guard let slash = prefix.lastIndex(of: "/") else { break }
                prefix = prefix[..<slash]
            }
        }
        return nil
    }

    /// Rule 4: an `[lxc monitor] PATH NAME` ancestor, owned by root in the host PID namespace.
    private func byLXCMonitor(ancestry: [Int], store: Store) throws -> IdentityMatch? {
        for pid in ancestry.dropFirst() {
            guard let cmdline = ProcFS.cmdline(pid), cmdline.hasPrefix("[lxc monitor]") else { continue }
            guard let status = ProcFS.status(pid), status.uid == 0, status.namespaceDepth == 1 else { continue }
            guard let name = cmdline.split(separator: " ").last.map(String.init) else { continue }
            return try store.identityMatch(name: name)
        }
        return nil
    }
}
