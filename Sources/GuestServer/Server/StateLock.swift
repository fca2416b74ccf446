import Foundation
import GuestStore
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's claim on a state folder: an flock'd lock file, held for the process's life,
/// so that a second daemon refuses to start and never steals a live socket.
///
/// Opened without following a link, and written only if it is plainly guestapid's own (a
/// regular file with one link, ours, holding nothing but a pid): root never truncates a file
/// someone else put there.
struct StateLock: ~Copyable {
    private let fd: Int32

    init(path: String) throws {
        var fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd < 0 && errno == EEXIST {
            fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0, let problem = Self.notOurs(fd) {
                close(fd)
                throw ServerError.refused("lock file \(path) \(problem); not touching it (remove it if no guestapid runs)")
            }
        }
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "it is a symbolic link" : String(cString: strerror(errno))
            throw ServerError.refused("cannot open lock file \(path): \(reason)")
        }
        guard Self.lock(fd) else {
            var holder = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &holder, holder.count, 0)
            let pid = String(decoding: holder.prefix(max(n, 0)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw ServerError.refused(
                "another guestapid is already running on this state (lock \(path) held\(pid.isEmpty ? "" : " by pid \(pid)"))")
        }
        self.fd = fd
        ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pwrite(fd, pid, pid.count, 0)
    }

    deinit { close(fd) }

    /// `guestapi-admin status` probes the lock with a shared one for an instant: a start that
    /// meets it tries again for up to a second, and only a holder that stays is another daemon.
    private static func lock(_ fd: Int32) -> Bool {
        for _ in 0..<100 {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
            guard errno == EWOULDBLOCK else { return false }
            usleep(10_000)
        }
        return false
    }

    /// Why an existing lock file is not one guestapid wrote; nil if it is.
    private static func notOurs(_ fd: Int32) -> String? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return "cannot be examined" }
        guard st.st_mode & S_IFMT == S_IFREG else { return "is not a regular file" }
        guard st.st_nlink == 1 else { return "has other names (hard links)" }
        guard st.st_uid == geteuid() else { return "belongs to uid \(st.st_uid)" }
        var content = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &content, content.count, 0)
        guard n >= 0, n < content.count, content.prefix(n).allSatisfy({ (0x30...0x39).contains($0) || $0 == 0x0A }) else {
            return "holds something other than a pid"
        }
        return nil
    }

    /// Removes a socket file left by a crash; refuses if something still listens on it, or if
    /// what is at the path is not a socket (a link, a file: never removed or written through).
    static func clearStaleSocket(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard st.st_mode & S_IFMT == S_IFSOCK else {
            throw ServerError.refused("\(path) exists and is not a socket; not replacing it")
        }
        if socketIsLive(path) {
            throw ServerError.refused("socket \(path) is in use by another process; not replacing it")
        }
        unlink(path)
    }

    private static func socketIsLive(_ path: String) -> Bool {
        guard let address = try? SocketAddress(unixDomainSocketPath: path) else { return false }
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { return false }
        defer { close(s) }
        return address.withSockAddr { connect(s, $0, socklen_t($1)) == 0 }
    }
}
