import HostProcess

#if canImport(Glibc)
import Glibc
#endif

/// Facts about the host that the identity rules (README, "How a caller is recognized") need,
/// read once at start.
struct HostFacts: Sendable {
    /// The daemon's own PID namespace: the namespace rule never applies to it.
    let hostPIDNamespace: Int?
    /// Ancestry is walked at most this many levels (README: 256); deeper, that rule does not match.
    let maxDepth: Int
    /// Whether the kernel has SO_PEERPIDFD (Linux 6.5): without it, a caller is known by its
    /// pid number alone on accept, which the kernel may have given to another process.
    let peerPidfd: Bool
    /// Whether a peer's pidfd names its process for good (pidfs, Linux 6.9): then what the
    /// rules found for a process is remembered for its next connections (`ResolutionMemo`).
    let pidfsInodes: Bool

    init(maxDepth: Int = 256) {
        hostPIDNamespace = try? ProcFS.pidNamespaceInode(Int(getpid()))
        self.maxDepth = maxDepth
        (peerPidfd, pidfsInodes) = PeerProcess.kernelSupport()
    }
}
