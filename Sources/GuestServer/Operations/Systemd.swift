import ASCIINumbers
import Foundation
import Glibc
import GuestHTTP
import NIOCore

/// systemd's protocols, spoken directly (no libsystemd): sockets passed by socket activation
/// (sd_listen_fds) and state messages on `NOTIFY_SOCKET` (sd_notify).
enum Systemd {
    /// The listening socket systemd passed for `name` (`FileDescriptorName=`), or the only one
    /// passed; nil without socket activation (no `LISTEN_PID`, or another process's). Clears
    /// the variables, as sd_listen_fds does. What is passed is checked before it is served: a
    /// count that is no count, a descriptor that is not open, or not a listening Unix stream
    /// socket, is refused in one line (served, a pipe would spin the acceptor, and another
    /// descriptor of the daemon's would be read as connections).
    static func inheritedSocket(named name: String) throws -> CInt? {
        let environment = ProcessInfo.processInfo.environment
        defer { for variable in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(variable) } }
        guard environment["LISTEN_PID"].flatMap({ Int(ascii: $0.utf8) }) == Int(getpid()) else { return nil }
        guard let text = environment["LISTEN_FDS"], let count = Int(ascii: text.utf8), (1...1024).contains(count) else {
            throw ServerError.refused(
                "socket activation: LISTEN_FDS=\(environment["LISTEN_FDS"] ?? "") is not a count of descriptors from 1 to 1024")
        }
        let names = environment["LISTEN_FDNAMES"]?.split(separator: ":", omittingEmptySubsequences: false).map(String.init) ?? []
        guard let index = names.firstIndex(of: name) ?? (count == 1 ? 0 : nil), index < count else {
            throw ServerError.refused(
                "socket activation: none of the \(count) descriptors passed is named \(name) (FileDescriptorName=\(name))")
        }
        let descriptor = CInt(3 + index)  // SD_LISTEN_FDS_START
        if let problem = problem(listening: descriptor) {
            throw ServerError.refused("socket activation: descriptor \(descriptor) (\(name)) \(problem)")
        }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        return descriptor
    }

    /// Why a descriptor is not a listening Unix stream socket; nil when it is one.
    static func problem(listening descriptor: CInt) -> String? {
        var st = stat()
        guard fstat(descriptor, &st) == 0 else { return "is not open" }
        guard st.st_mode & S_IFMT == S_IFSOCK else { return "is not a socket" }
        func option(_ name: CInt) -> CInt? {
            var value: CInt = 0
            var length = socklen_t(MemoryLayout<CInt>.size)
            return getsockopt(descriptor, SOL_SOCKET, name, &value, &length) == 0 ? value : nil
        }
        guard option(SO_DOMAIN) == AF_UNIX else { return "is not a Unix socket" }
        guard option(SO_TYPE) == CInt(SOCK_STREAM.rawValue) else { return "is not a stream socket" }
        guard option(SO_ACCEPTCONN) == 1 else { return "is not listening" }
        return nil
    }
}

/// Tells systemd how the service is (`Type=notify`): READY=1, STATUS=, STOPPING=1 and, with
/// `WatchdogSec=`, WATCHDOG=1 — sent only while the event loops and the journal tailer answer,
/// so that a daemon that is stuck is restarted rather than vouched for by a timer.
/// Sendable: the socket is immutable once made; sends are datagrams.
final class SystemdNotifier: Sendable {
    private let socket: CInt
    private let address: [UInt8]
    /// Half of `WATCHDOG_USEC`, when systemd watches this process.
    let watchdogInterval: TimeAmount?

    /// nil when systemd did not ask (`NOTIFY_SOCKET` unset).
    init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty, path.utf8.count < 108 else { return nil }
        let descriptor = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        socket = descriptor
        // An abstract socket is written with a leading '@' and addressed with a NUL.
        address = path.hasPrefix("@") ? [0] + Array(path.utf8.dropFirst()) : Array(path.utf8)
        let forUs = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if forUs, let microseconds = environment["WATCHDOG_USEC"].flatMap({ Int64($0) }), microseconds > 0 {
            // Any value systemd could mean fits; a larger one must not trap in the conversion.
            watchdogInterval = .microseconds(min(microseconds, Int64.max / 1000) / 2)
        } else {
            watchdogInterval = nil
        }
    }

    deinit { close(socket) }

    func send(_ message: String) {
        var sun = sockaddr_un()
        sun.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &sun.sun_path) { path in
            for (index, byte) in address.prefix(path.count).enumerated() { path[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + address.count)
        let bytes = Array(message.utf8)
        _ = withUnsafePointer(to: &sun) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(socket, bytes, bytes.count, Int32(MSG_NOSIGNAL), $0, length)
            }
        }
    }
}
