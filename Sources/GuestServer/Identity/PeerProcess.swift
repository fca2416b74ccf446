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
    static func read(socket: CInt, host: HostFacts) -> PeerProcess? {
        var ucred = UCred()
        var length = socklen_t(MemoryLayout<UCred>.size)
        guard getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &ucred, &length) == 0, ucred.pid > 0 else { return nil }
        return PeerProcess(
            pid: Int(ucred.pid), uid: Int(ucred.uid),
            proof: host.peerPidfd ? .connection(socket) : .unchecked)
    }

    /// pidfs's magic number (`PID_FS_MAGIC`): a pidfd on it has an inode number of its own
    /// for each process (Linux 6.9).
    private static let pidfsMagic = 0x5049_4446

    /// What the kernel offers for knowing a peer: SO_PEERPIDFD (Linux 6.5), and pidfds whose
    /// inode numbers tell processes apart (pidfs, Linux 6.9). Asked of a socket pair of our own.
    static func kernelSupport() -> (peerPidfd: Bool, pidfsInodes: Bool) {
        var pair: [CInt] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else { return (true, false) }
        defer { pair.forEach { close($0) } }
        var descriptor: CInt = -1
        var length = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(pair[0], SOL_SOCKET, SO_PEERPIDFD, &descriptor, &length) == 0 else { return (errno != ENOPROTOOPT, false) }
        defer { close(descriptor) }
        return (true, filesystemMagic(descriptor) == pidfsMagic)
    }

    /// `fstatfs(descriptor).f_type`, which Swift's Glibc does not export (no <sys/vfs.h>):
    /// looked up in the C library, and read from the first field of `struct statfs`.
    private static func filesystemMagic(_ descriptor: CInt) -> Int? {
        typealias FStatFS = @convention(c) (CInt, UnsafeMutableRawPointer) -> CInt
        guard let symbol = dlsym(nil, "fstatfs") else { return nil }
        let fstatfs = unsafeBitCast(symbol, to: FStatFS.self)
        // struct statfs is 120 bytes on 64-bit Linux; room to spare.
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 32) { buffer in
            guard fstatfs(descriptor, buffer.baseAddress!) == 0 else { return nil }
            return buffer[0]
        }
    }

    /// Whether the process that connected still runs (a zombie does not). Throws when the
    /// answer cannot be had now (out of descriptors).
    func isRunning() throws -> Bool {
        switch proof {
        case .unchecked:
            return true
        case .startTime(let startTime):
            return try ProcFS.stat(pid)?.startTime == startTime
        case .connection:
            return try withPidfd { _ in true } ?? false
        }
    }

    /// The process that connected, named for good: its pidfd's inode number on pidfs (which
    /// the kernel never gives another process, unlike a pid). nil when the process is gone,
    /// or was not taken from the connection.
    func pidfsInode() throws -> UInt64? {
        try withPidfd { pidfd in
            var status = stat()
            guard fstat(pidfd, &status) == 0 else { throw ProcFS.Unreadable(path: "the caller's pidfd", errno: errno) }
            return UInt64(status.st_ino)
        } ?? nil
    }

    /// Runs `body` with the connection's pidfd of the peer while the peer runs; nil once it
    /// exited, or when the proof is not the connection.
    private func withPidfd<T>(_ body: (CInt) throws -> T) throws -> T? {
        guard case .connection(let socket) = proof else { return nil }
        var pidfd: CInt = -1
        var length = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(socket, SOL_SOCKET, Self.SO_PEERPIDFD, &pidfd, &length) == 0 else {
            switch errno {
            // EINVAL is how the kernel says ESRCH here: the process is gone (and reaped).
            case EINVAL, ESRCH, ENODATA: return nil
            case let error: throw ProcFS.Unreadable(path: "the caller's pidfd", errno: error)
            }
        }
        defer { close(pidfd) }
        var ready = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        guard poll(&ready, 1, 0) == 0 else { return nil }
        return try body(pidfd)
    }

    /// The process's start time, once it is the proof.
    var startTime: Int? {
        guard case .startTime(let startTime) = proof else { return nil }
        return startTime
    }

    /// Takes the start time as the proof, once `isRunning()` proved `startTime` the process's.
    mutating func keep(startTime: Int) {
        proof = .startTime(startTime)
    }
}
