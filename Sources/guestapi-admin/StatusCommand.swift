import ArgumentParser
import Foundation
import GuestJSON
import GuestStore
import HostProcess
import StandardStreams

/// Whether a guestapid serves this state, and how it is: the lock's holder, then its admin
/// socket. Exit 0 healthy, 3 not running (as `systemctl status`), 1 running but unhealthy.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Whether guestapid runs on this state, and its health (exit 0 healthy, 3 not running, 1 unhealthy).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "The daemon's admin socket (default STATE/admin.sock).") var adminSocket: String?

    func run() throws {
        var paths = global.paths
        paths.adminSocketOverride = adminSocket
        guard let pid = try Self.lockHolder(paths.lockFile) else {
            Output.line(global.format == .json ? #"{"running":false}"# : "guestapid is not running on \(paths.stateDirectory)")
            throw ExitCode(3)
        }
        guard let (status, body) = Self.get("/status", from: paths.adminSocket), status == 200,
            case .object(let fields)? = try? JSONText(parsing: Array(body.utf8))
        else {
            if global.format == .json { Output.line(#"{"running":true,"healthy":false,"pid":\#(pid)}"#) }
            StandardStream.error("guestapi-admin: guestapid runs (pid \(pid)) but its admin socket \(paths.adminSocket) does not answer")
            throw ExitCode.failure
        }
        let healthy = fields.contains { $0.key == "healthy" && $0.value == .bool(true) }
        if global.format == .json {
            // The same object as when it is not running, with "running" first.
            let members = body.drop { $0 != "{" }.dropFirst().drop { $0 == " " || $0 == "\n" }
            Output.write(Array(("{\"running\":true" + (members.first == "}" ? "" : ",") + members).utf8))
        } else {
            let show: (JSONText) -> String = { value in
                switch value {
                case .string(let text): text
                case .integer(let number): String(number)
                case .bool(let flag): flag ? "yes" : "no"
                default: "\(value)"
                }
            }
            Output.table(["FIELD", "VALUE"], [["running", "yes"]] + fields.map { [$0.key, show($0.value)] })
        }
        if !healthy { throw ExitCode.failure }
    }

    /// The pid in the lock file if a process holds its lock; nil if none does. A lock file
    /// this user may not read says nothing either way: that is an error, not "not running".
    static func lockHolder(_ path: String) throws -> Int? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 && errno == EACCES {
            StandardStream.error("guestapi-admin: \(StoreError.permissionDenied(path))")
            throw ExitCode.failure
        }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        let n = read(fd, &bytes, bytes.count)
        return Int(String(decoding: bytes.prefix(max(n, 0)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// `GET path` over a Unix socket, HTTP/1.0: the status and the body; nil if it cannot connect.
    static func get(_ path: String, from socketPath: String) -> (Int, String)? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { for (i, byte) in bytes.enumerated() { $0[i] = byte } }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.0\r\n\r\n".utf8)
        guard write(fd, request, request.count) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while response.count < 1 << 20 {
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { break }
            response += buffer[..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n"), let status = Int(text.split(separator: " ").dropFirst().first ?? "") else {
            return nil
        }
        return (status, String(text[split.upperBound...]))
    }
}
