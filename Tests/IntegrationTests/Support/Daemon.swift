import Foundation

/// A guestapid running on a test's state, started from the built binary.
/// Stopped (SIGKILL) when dropped, so a failing test never leaves it behind.
final class Daemon {
    let state: TemporaryState
    private(set) var process: RunningCommand
    private let wrapper: [String]

    /// Starts guestapid and waits until its socket accepts connections. `wrapper`: a command
    /// prefix that ends by running its arguments (`unshare … sh -c '…; exec "$0" "$@"'`).
    init(state: TemporaryState, arguments: [String] = [], wrapper: [String] = []) throws {
        self.state = state
        self.wrapper = wrapper
        process = try Self.launch(state: state, arguments: arguments, wrapper: wrapper)
    }

    deinit { process.signal(SIGKILL) }

    var pid: Int32 { process.pid }
    var socket: String { state.socket }

    private static func launch(state: TemporaryState, arguments: [String], wrapper: [String]) throws -> RunningCommand {
        let command = wrapper + [Binaries.daemon] + state.arguments + arguments
        let process = try Command(command[0], Array(command.dropFirst())).start()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if String(decoding: process.stdoutSoFar, as: UTF8.self).contains("serving") { return process }
            if !process.isRunning {
                let result = try process.wait()
                throw CommandError.failed(result)
            }
            usleep(10_000)
        }
        process.signal(SIGKILL)
        throw CommandError.timedOut(
            command: "guestapid", after: .seconds(20),
            stdout: String(decoding: process.stdoutSoFar, as: UTF8.self), stderr: process.stderrSoFar)
    }

    /// SIGTERM and wait for the exit.
    @discardableResult
    func stop() throws -> CommandResult {
        process.signal(SIGTERM)
        return try process.wait(timeout: .seconds(15))
    }

    /// kill -9: no cleanup at all, as in a crash.
    func crash() throws {
        process.signal(SIGKILL)
        _ = try? process.wait(timeout: .seconds(15))
    }

    /// Starts again on the same state (after `stop` or `crash`).
    func restart(arguments: [String] = []) throws {
        process = try Self.launch(state: state, arguments: arguments, wrapper: wrapper)
    }
}
