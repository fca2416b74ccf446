import HostProcess
#if canImport(Glibc)
import Glibc
#endif

/// The process at the other end of a guest connection, as the kernel recorded it at connect
/// time: its credentials (SO_PEERCRED) and what proves, later, that a process under its pid is
/// still that process. What is read from `/proc/PID` counts only if the process still runs
/// afterwards: then the pid was still its own.
///
/// On accept the proof is the connection itself: the kernel keeps a reference to the process
/// that connected (not to its number), and SO_PEERPIDFD turns it into a pidfd, which polls
/// readable once that process has exited. It is asked once the rules are done, so a caller
/// waiting to be resolved holds no descriptor but its socket. After that, the proof is the
/// process's start time, read while the pidfd said it ran: a pid and a start time name one
/// process for good.
struct PeerProcess: Sendable {
    let pid: Int
    let uid: Int
    private(set) var proof: Proof

    enum Proof: Sendable {
        /// The accepted socket, whose SO_PEERPIDFD tells.
        case connection(CInt)
        case startTime(Int)
        /// The kernel lacks SO_PEERPIDFD (before Linux 6.5): the pid number alone, on accept.
        case unchecked
    }

    /// SO_PEERPIDFD, which Debian 12's headers do not define.
    private static let SO_PEERPIDFD: CInt = 77

    /// `struct ucred` from <sys/socket.h>, which Glibc does not export to Swift.
    private struct UCred {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// The peer of an accepted socket; nil when the kernel has no credentials for it (the
    /// process is gone, or was never seen from here).
    static func read(socket: CInt, rules: IdentityRules) -> PeerProcess? {
        var ucred = UCred()
        var length = socklen_t(MemoryLayout<UCred>.size)
        guard getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &ucred, &length) == 0, ucred.pid > 0 else { return nil }
        return PeerProcess(pid: Int(ucred.pid), uid: Int(ucred.uid),
                           proof: rules.peerPidfd ? .connection(socket) : .unchecked)
    }

    /// Whether the kernel has SO_PEERPIDFD: asked of a socket pair of our own.
    static func kernelHasPeerPidfd() -> Bool {
        var pair: [CInt] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else { return true }
        defer { pair.forEach { close($0) } }
        var descriptor: CInt = -1
        var length = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(pair[0], SOL_SOCKET, SO_PEERPIDFD, &descriptor, &length) == 0 else { return errno != ENOPROTOOPT }
        close(descriptor)
        return true
    }

    /// Whether the process that connected still runs (a zombie does not). Throws when the
    /// answer cannot be had now (out of descriptors).
    func isRunning() throws -> Bool {
        switch proof {
        case .unchecked:
            return true
        case .startTime(let startTime):
            return try ProcFS.stat(pid)?.startTime == startTime
        case .connection(let socket):
            var pidfd: CInt = -1
            var length = socklen_t(MemoryLayout<CInt>.size)
            guard getsockopt(socket, SOL_SOCKET, Self.SO_PEERPIDFD, &pidfd, &length) == 0 else {
                switch errno {
                // EINVAL is how the kernel says ESRCH here: the process is gone (and reaped).
                case EINVAL, ESRCH, ENODATA: return false
                case let error: throw ProcFS.Unreadable(path: "the caller's pidfd", errno: error)
                }
            }
            defer { close(pidfd) }
            var ready = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            return poll(&ready, 1, 0) == 0
        }
    }

    /// Takes the start time as the proof, once `isRunning()` proved `startTime` the process's.
    mutating func keep(startTime: Int) {
        proof = .startTime(startTime)
    }
}
