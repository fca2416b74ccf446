#if canImport(Glibc)
import Glibc
#endif

/// Who is on the other end of a Unix socket: SO_PEERCRED, as the kernel recorded it at connect time.
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int
    public var uid: Int
    public var gid: Int

    /// `struct ucred` from <sys/socket.h>, which Glibc does not export to Swift.
    private struct UCred: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// Reads the credentials of an accepted socket; nil if the kernel has none for it.
    static func read(descriptor: CInt) -> PeerCredentials? {
        var ucred = UCred()
        var length = socklen_t(MemoryLayout<UCred>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &ucred, &length) == 0, ucred.pid > 0 else { return nil }
        return PeerCredentials(pid: Int(ucred.pid), uid: Int(ucred.uid), gid: Int(ucred.gid))
    }
}
