import NIOCore
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

    /// Reads the credentials of an accepted channel. Must run on the channel's event loop,
    /// where the option is read synchronously.
    static func read(from channel: Channel) -> PeerCredentials? {
        guard let provider = channel as? SocketOptionProvider else { return nil }
        let future: EventLoopFuture<UCred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        // On the event loop the option is read at once, so the future is already complete.
        var result: PeerCredentials?
        future.assumeIsolated().whenSuccess { ucred in
            if ucred.pid > 0 { result = PeerCredentials(pid: Int(ucred.pid), uid: Int(ucred.uid), gid: Int(ucred.gid)) }
        }
        return result
    }
}
