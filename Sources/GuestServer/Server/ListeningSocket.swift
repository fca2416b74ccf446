import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The guest socket, bound and listening, non-blocking: the `Acceptor` takes its connections.
struct ListeningSocket: Sendable {
    let descriptor: CInt
    /// The socket file's inode, to notice when the path no longer names it.
    let inode: ino_t

    /// Binds a new socket at `path` (nothing may be there) with `mode` from the moment it
    /// exists (the guest socket's 0666: who may talk is decided by peer credentials, not file
    /// modes); a chmod by path afterwards could follow a link put there meanwhile.
    init(path: String, backlog: Int32, mode: mode_t = 0o666) throws {
        let address = try SocketAddress(unixDomainSocketPath: path)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { throw ServerError.system("make a socket for \(path)", errno) }
        // Linux gives the file the socket's own mode, less the umask.
        fchmod(descriptor, mode)
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

    /// A socket systemd bound and passed (socket activation): made non-blocking, kept as it is.
    init(inherited descriptor: CInt) {
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        var st = stat()
        inode = fstat(descriptor, &st) == 0 ? st.st_ino : 0
        self.descriptor = descriptor
    }

    /// Whether `path` still names this socket.
    func isBound(at path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && st.st_ino == inode
    }
}
