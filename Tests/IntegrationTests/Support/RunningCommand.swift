import Foundation

/// A started child process whose output is collected as it comes. Killed when dropped
/// while still running, so a failing test never leaves a process behind.
///
/// Spawned with `posix_spawn` and reaped with `waitpid` on its own pid: Foundation's `Process`
/// notices an exit only once every descendant has closed an inherited socket, so a child
/// that leaves a grandchild behind (`nsenter`, `sh -c 'x &'`) would look alive until that one dies.
///
/// Sendable: the pid is immutable, the exit status and output buffers are behind locks.
final class RunningCommand: @unchecked Sendable {
    let command: Command
    let pid: pid_t
    private let exit = ExitStatus()
    private let readers = DispatchGroup()
    private let stdout = OutputBuffer()
    private let stderr = OutputBuffer()
    /// The write end of the child's stdin, while `command.openStdin` keeps it open.
    private let stdinWriter: Int32?

    init(_ command: Command) throws {
        Self.ignoreBrokenPipes
        self.command = command
        // Pipes are made close-on-exec in two steps: no other spawn may happen in between.
        let (output, errors, input, spawned) = try Self.spawnLock.withLock {
            let output = try PipePair()
            let errors = try PipePair()
            let input = command.stdin != nil || command.openStdin ? try PipePair() : nil
            return (
                output, errors, input, Result { try Self.spawn(command, stdin: input?.read, stdout: output.write, stderr: errors.write) }
            )
        }
        // The child has its own copies of its ends (or failed to start): the parent keeps only its own.
        [output.write, errors.write, input?.read].compactMap { $0 }.forEach { close($0) }
        if case .failure = spawned { [output.read, errors.read, input?.write].compactMap { $0 }.forEach { close($0) } }
        pid = try spawned.get()
        stdinWriter = command.openStdin ? input?.write : nil
        collect(output.read, into: stdout)
        collect(errors.read, into: stderr)
        if let input, let bytes = command.stdin {
            // From another thread: a child that does not read would block this one on a full pipe.
            Thread.detachNewThread {
                writeAll(bytes, to: input.write)
                close(input.write)
            }
        }
        let (pid, exit) = (pid, exit)
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            exit.record(status)
        }
    }

    deinit {
        if let stdinWriter { close(stdinWriter) }
        if isRunning { kill(pid, SIGKILL) }
        exit.wait(timeout: .seconds(10))
    }

    private static let spawnLock = NSLock()

    /// A child that exits without reading its stdin must fail the test, not kill the test process.
    private static let ignoreBrokenPipes: Void = { _ = Glibc.signal(SIGPIPE, SIG_IGN) }()

    var isRunning: Bool { exit.status == nil }

    /// What the program printed on stdout until now.
    var stdoutSoFar: [UInt8] { stdout.bytes }
    var stderrSoFar: String { String(decoding: stderr.bytes, as: UTF8.self) }

    func signal(_ signal: Int32 = SIGTERM) { if isRunning { kill(pid, signal) } }

    /// Writes `bytes` to the child's open stdin (`Command.openStdin`).
    func send(_ bytes: [UInt8]) {
        precondition(stdinWriter != nil, "\(command) was started without an open stdin")
        stdinWriter.map { writeAll(bytes, to: $0) }
    }

    /// Waits for the end; after `timeout` the program is killed and `CommandError.timedOut` thrown.
    func wait(timeout: Duration = .seconds(30)) throws -> CommandResult {
        guard let status = exit.wait(timeout: timeout) else {
            kill(pid, SIGKILL)
            exit.wait(timeout: .seconds(10))
            _ = readers.wait(timeout: .now() + 1)
            throw CommandError.timedOut(
                command: command.description, after: timeout,
                stdout: String(decoding: stdout.bytes, as: UTF8.self), stderr: stderrSoFar)
        }
        // A grandchild may still hold the pipes open: do not wait for it forever.
        _ = readers.wait(timeout: .now() + 5)
        let signal = status & 0x7f
        return CommandResult(
            command: command.description, status: signal == 0 ? (status >> 8) & 0xff : 128 + signal,
            stdout: stdout.bytes, stderr: stderrSoFar)
    }

    private func collect(_ fd: Int32, into buffer: OutputBuffer) {
        readers.enter()
        Thread.detachNewThread { [readers] in
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                buffer.append(chunk[..<n])
            }
            close(fd)
            readers.leave()
        }
    }

    private static func spawn(_ command: Command, stdin: Int32?, stdout: Int32, stderr: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin {
            posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with default signal handling and nothing blocked, whatever the test runner set.
        var defaults = sigset_t()
        var mask = sigset_t()
        sigemptyset(&mask)
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([command.executable] + command.arguments).map { strdup($0) } + [nil]
        let envp = command.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, command.executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        return pid
    }
}

extension RunningCommand {
    /// A real process to register as an instance's init: `sleep 30`, killed with the value.
    static func sleeping() throws -> RunningCommand {
        try Command("/bin/sleep", ["30"]).start()
    }
}

/// A pipe whose ends are closed on exec, so that only the child they are dup'ed into holds them
/// (tests spawn in parallel: another child must not keep this pipe open).
private struct PipePair {
    let read: Int32
    let write: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        (read, write) = (fds[0], fds[1])
        _ = fcntl(read, F_SETFD, FD_CLOEXEC)
        _ = fcntl(write, F_SETFD, FD_CLOEXEC)
    }
}

private func writeAll(_ bytes: [UInt8], to fd: Int32) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }  // the child closed its stdin
        offset += n
    }
}

/// The child's wait status, once reaped. Sendable: every access holds the lock.
private final class ExitStatus: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Int32?

    var status: Int32? { condition.withLock { value } }

    func record(_ status: Int32) {
        condition.withLock {
            value = status
            condition.broadcast()
        }
    }

    @discardableResult
    func wait(timeout: Duration) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout.timeInterval)
        return condition.withLock {
            while value == nil && condition.wait(until: deadline) {}
            return value
        }
    }
}

/// Bytes appended by a reader thread and read by the test. Sendable: every access holds the lock.
private final class OutputBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [UInt8] = []

    func append(_ bytes: ArraySlice<UInt8>) { lock.withLock { storage.append(contentsOf: bytes) } }
    var bytes: [UInt8] { lock.withLock { storage } }
}

extension Duration {
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
