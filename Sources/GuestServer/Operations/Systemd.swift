import Foundation
import Glibc
import GuestHTTP
import NIOCore

/// systemd's protocols, spoken directly (no libsystemd): sockets passed by socket activation
/// (sd_listen_fds) and state messages on `NOTIFY_SOCKET` (sd_notify).
enum Systemd {
    /// The listening socket systemd passed for `name` (`FileDescriptorName=`), or the only one
    /// passed; nil without socket activation. Clears the variables, as sd_listen_fds does.
    static func inheritedSocket(named name: String) -> CInt? {
        let environment = ProcessInfo.processInfo.environment
        defer { for variable in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] { unsetenv(variable) } }
        guard environment["LISTEN_PID"].flatMap({ Int32($0) }) == getpid(),
              let count = environment["LISTEN_FDS"].flatMap({ Int32($0) }), count > 0 else { return nil }
        let names = environment["LISTEN_FDNAMES"]?.split(separator: ":", omittingEmptySubsequences: false).map(String.init) ?? []
        let index = names.firstIndex(of: name) ?? (count == 1 ? 0 : nil)
        guard let index, index < Int(count) else { return nil }
        let descriptor = CInt(3 + index)  // SD_LISTEN_FDS_START
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        return descriptor
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
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(socket, bytes, bytes.count, Int32(MSG_NOSIGNAL), $0, length) }
        }
    }
}
