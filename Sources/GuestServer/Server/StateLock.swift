import Foundation
import GuestStore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's claim on a state folder: an flock'd lock file, held for the process's life,
/// so that a second daemon refuses to start and never steals a live socket.
struct StateLock: ~Copyable {
    private let fd: Int32

    init(path: String) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.io("cannot open lock file \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw StoreError.io("another guestapid is already running on this state (lock \(path) held\(holder.isEmpty ? "" : " by pid \(holder)"))")
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }

    deinit { close(fd) }

    /// Removes a socket file left by a crash; refuses if something still listens on it.
    static func clearStaleSocket(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        if socketIsLive(path) {
            throw StoreError.io("socket \(path) is in use by another process; not replacing it")
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
