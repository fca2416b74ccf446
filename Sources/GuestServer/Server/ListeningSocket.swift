import GuestStore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The guest socket, bound and listening, non-blocking: the `Acceptor` takes its connections.
struct ListeningSocket {
    let descriptor: CInt

    init(path: String, backlog: Int32) throws {
        let address = try SocketAddress(unixDomainSocketPath: path)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { throw Self.failure("make a socket for", path) }
        let bound = address.withSockAddr { bind(descriptor, $0, socklen_t($1)) }
        guard bound == 0, listen(descriptor, backlog) == 0 else {
            let error = Self.failure(bound == 0 ? "listen on" : "bind", path)
            close(descriptor)
            throw error
        }
        self.descriptor = descriptor
    }

    private static func failure(_ action: String, _ path: String) -> StoreError {
        StoreError.io("cannot \(action) \(path): \(String(cString: strerror(errno)))")
    }
}
