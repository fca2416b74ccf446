import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The guest socket, bound and listening, non-blocking: the `Acceptor` takes its connections.
struct ListeningSocket: Sendable {
    let descriptor: CInt
    /// The socket file's inode, to notice when the path no longer names it.
    let inode: ino_t

    /// Binds a new socket at `path` (nothing may be there), mode 0666 from the moment it
    /// exists: who may talk is decided by peer credentials, not file modes, and a chmod by
    /// path afterwards could follow a link put there meanwhile.
    init(path: String, backlog: Int32) throws {
        let address = try SocketAddress(unixDomainSocketPath: path)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { throw ServerError.system("make a socket for \(path)", errno) }
        // Linux gives the file the socket's own mode, less the umask.
        fchmod(descriptor, 0o666)
        let umask = umask(0)
        let bound = address.withSockAddr { bind(descriptor, $0, socklen_t($1)) }
        let bindError = errno
        _ = Glibc.umask(umask)
        guard bound == 0, listen(descriptor, backlog) == 0 else {
            let error = ServerError.system("\(bound == 0 ? "listen on" : "bind") \(path)", bound == 0 ? errno : bindError)
            close(descriptor)
            throw error
        }
        var st = stat()
        self.inode = lstat(path, &st) == 0 ? st.st_ino : 0
        self.descriptor = descriptor
    }

    /// Whether `path` still names this socket.
    func isBound(at path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && st.st_ino == inode
    }
}
