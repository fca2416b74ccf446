import Foundation

/// A real process standing in for a workload: a shell that runs commands on request, so that
/// every client it starts (curl, python) descends from it. Optionally wrapped, e.g. in
/// `unshare --pid --fork` (its own PID namespace) or `setpriv --reuid` (another uid).
///
/// Output travels through files, so commands' bytes come back exactly.
final class GuestProcess {
    private let process: RunningCommand
    private let folder: String
    private let wrapped: Bool
    private var counter = 0
    /// How much of the shell's stdout (one `done N STATUS` line per command) was read.
    private var consumed = 0

    /// `wrapper`: a command prefix that ends by running its arguments (`["/usr/bin/unshare", "--pid", "--fork"]`).
    init(wrapper: [String] = []) throws {
        let folder = NSTemporaryDirectory() + "guestapi-guest-\(UUID().uuidString)"
        self.folder = folder
        wrapped = !wrapper.isEmpty
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        chmod(folder, 0o777)
        let command = wrapper + ["/bin/sh"]
        var shell = Command(command[0], Array(command.dropFirst()))
        shell.openStdin = true
        process = try shell.start()
        // Prove the shell is up (and, when wrapped, that the inner process exists).
        _ = try run("true")
    }

    deinit {
        if let inner = innerPID { kill(inner, SIGKILL) }
        process.signal(SIGKILL)
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The pid of the process started (the wrapper, if any).
    var pid: Int32 { process.pid }

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
        let out = "\(folder)/\(counter).out"
        let err = "\(folder)/\(counter).err"
        process.send(Array("{ \(command) ; } >\(out) 2>\(err) </dev/null; echo \"done \(counter) $?\"\n".utf8))
        let status = try waitForDone(counter, timeout: timeout)
        return Output(
            status: status, stdout: Array(FileManager.default.contents(atPath: out) ?? Data()),
            stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    /// `curl` from inside the guest: the full response (`-i`), exactly as received.
    func curl(_ socket: String, _ path: String, _ options: [String] = []) throws -> Output {
        let quoted = (["curl", "-s", "-i", "--max-time", "10", "--unix-socket", socket] + options + ["http://guest" + path])
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        return try run(quoted.joined(separator: " "))
    }

    /// The status in the shell's `done N STATUS` line for command `n`.
    private func waitForDone(_ n: Int, timeout: TimeInterval) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        let marker = Array("done \(n) ".utf8)
        while Date() < deadline {
            let output = process.stdoutSoFar
            if let newline = output[consumed...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = output[consumed..<newline]
                consumed = newline + 1
                if line.starts(with: marker) { return Int32(String(decoding: line.dropFirst(marker.count), as: UTF8.self)) ?? -1 }
                continue
            }
            guard process.isRunning else { throw GuestProcessError.exited }
            usleep(1_000)
        }
        throw GuestProcessError.timedOut
    }
}

enum GuestProcessError: Error { case exited, timedOut }
