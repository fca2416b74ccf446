import Foundation

/// A real process standing in for a workload: a shell that runs commands on request, so that
/// every client it starts (curl, python) descends from it. Optionally wrapped, e.g. in
/// `unshare --pid --fork` (its own PID namespace) or `setpriv --reuid` (another uid).
///
/// Output travels through files, so commands' bytes come back exactly.
final class GuestProcess {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let folder: String
    private let wrapped: Bool
    private var counter = 0
    private var pending = [UInt8]()

    /// `wrapper`: a command prefix that ends by running its arguments (`["/usr/bin/unshare", "--pid", "--fork"]`).
    init(wrapper: [String] = []) throws {
        folder = NSTemporaryDirectory() + "guestapi-guest-\(UUID().uuidString)"
        wrapped = !wrapper.isEmpty
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        chmod(folder, 0o777)
        let command = wrapper + ["/bin/sh"]
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GUESTAPI_") }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Prove the shell is up (and, when wrapped, that the inner process exists).
        _ = try run("true")
    }

    deinit {
        try? input.fileHandleForWriting.close()
        kill(process.processIdentifier, SIGKILL)
        if let inner = innerPID { kill(inner, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The pid of the process started (the wrapper, if any).
    var pid: Int32 { process.processIdentifier }

    /// The shell's own pid on the host: the wrapper's child when the wrapper forks, else `pid`.
    var innerPID: Int32? {
        // An unwrapped shell's children are the commands it runs in the background, not itself.
        guard wrapped else { return nil }
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").first.flatMap { Int32($0) }
    }

    /// The shell's pid as the instance's init: the inner one when wrapped in a forking wrapper.
    var shellPID: Int32 { innerPID ?? pid }

    struct Output {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
        var text: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs `command` in the shell and returns what it printed, byte for byte.
    func run(_ command: String, timeout: TimeInterval = 30) throws -> Output {
        counter += 1
        let out = "\(folder)/\(counter).out", err = "\(folder)/\(counter).err"
        let line = "{ \(command) ; } >\(out) 2>\(err) </dev/null; echo \"done \(counter) $?\"\n"
        try input.fileHandleForWriting.write(contentsOf: Data(line.utf8))
        let status = try readDone(counter, timeout: timeout)
        return Output(status: status, stdout: Array(FileManager.default.contents(atPath: out) ?? Data()),
                      stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    /// `curl` from inside the guest: the full response (`-i`), exactly as received.
    func curl(_ socket: String, _ path: String, _ options: [String] = []) throws -> Output {
        let quoted = (["curl", "-s", "-i", "--max-time", "10", "--unix-socket", socket] + options + ["http://guest" + path])
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        return try run(quoted.joined(separator: " "))
    }

    private func readDone(_ n: Int, timeout: TimeInterval) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        let handle = output.fileHandleForReading
        let marker = Array("done \(n) ".utf8)
        while Date() < deadline {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                if line.starts(with: marker) {
                    return Int32(String(decoding: line.dropFirst(marker.count), as: UTF8.self)) ?? -1
                }
                continue
            }
            let chunk = handle.availableData
            if chunk.isEmpty { throw GuestProcessError.exited }
            pending += chunk
        }
        throw GuestProcessError.timedOut
    }
}

enum GuestProcessError: Error { case exited, timedOut }
