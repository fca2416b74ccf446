import Foundation

/// A program to run as a child process: its arguments, environment and standard input.
///
/// The environment is the test's own without `GUESTAPI_*` variables (so a developer's
/// settings never leak into a test), plus `environment`.
struct Command: Sendable, CustomStringConvertible {
    var executable: String
    var arguments: [String]
    var environment: [String: String]
    /// Bytes for standard input, which is then closed; nil gives `/dev/null`, unless `openStdin`.
    var stdin: [UInt8]?
    /// Standard input stays open for `RunningCommand.send` (a shell fed commands one by one).
    var openStdin = false

    init(_ executable: String, _ arguments: [String] = [], environment: [String: String] = [:], stdin: [UInt8]? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GUESTAPI_") }
            .merging(environment) { $1 }
        self.stdin = stdin
    }

    var description: String { ([executable] + arguments).joined(separator: " ") }

    /// Starts the program and returns at once; `wait` collects the result.
    func start() throws -> RunningCommand { try RunningCommand(self) }

    /// Runs the program to its end; a program still running after `timeout` is killed and reported.
    func run(timeout: Duration = .seconds(30)) throws -> CommandResult {
        try start().wait(timeout: timeout)
    }
}

/// How a program ended and what it printed.
struct CommandResult: Sendable {
    var command: String
    /// The exit code, or 128 + the signal number when a signal ended it.
    var status: Int32
    var stdout: [UInt8]
    var stderr: String

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// Non-empty stderr lines.
    var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }

    /// Throws unless the program exited 0.
    @discardableResult
    func requireSuccess() throws -> CommandResult {
        guard status == 0 else { throw CommandError.failed(self) }
        return self
    }
}

enum CommandError: Error, CustomStringConvertible {
    case failed(CommandResult)
    case timedOut(command: String, after: Duration, stdout: String, stderr: String)

    var description: String {
        switch self {
        case .failed(let result):
            "\(result.command) exited \(result.status): \(result.stderr)"
        case .timedOut(let command, let after, let stdout, let stderr):
            "\(command) still running after \(after), killed; stdout: \(stdout) stderr: \(stderr)"
        }
    }
}
