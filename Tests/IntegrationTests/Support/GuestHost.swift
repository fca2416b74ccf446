import Foundation
import Testing

/// A guestapid serving a fresh state, and the admin CLI on that state: the stage for tests
/// that talk to the guest API as real instances do.
///
/// Not Sendable: one test owns it.
final class GuestHost {
    let cli: AdminCLI
    let daemon: Daemon

    init(daemonArguments: [String] = []) throws {
        cli = try AdminCLI()
        daemon = try Daemon(state: cli.state, arguments: daemonArguments)
    }

    var state: TemporaryState { cli.state }
    var socket: String { daemon.socket }

    /// A new process registered as instance `name`'s init (`instance create NAME --pid PID OPTIONS`).
    func guest(_ name: String, _ createOptions: String..., wrapper: [String] = []) throws -> Guest {
        try guest(name, options: createOptions, wrapper: wrapper)
    }

    func guest(_ name: String, options: [String], wrapper: [String] = []) throws -> Guest {
        let guest = try stranger(wrapper: wrapper)
        try register(name, pid: guest.process.shellPID, options)
        return guest
    }

    /// A new process that no instance owns (yet).
    func stranger(wrapper: [String] = []) throws -> Guest {
        Guest(process: try GuestProcess(wrapper: wrapper), host: self)
    }

    func register(_ name: String, pid: Int32, _ createOptions: [String] = []) throws {
        try cli.succeed(["instance", "create", name, "--pid", String(pid)] + createOptions)
    }

    /// `guestapi-admin ARGUMENTS` on this state, as a command line for a guest to run.
    func adminCommand(_ arguments: String...) -> [String] {
        [Binaries.admin] + arguments + state.arguments
    }
}

/// A workload process as the tests drive it: it asks the daemon's socket from inside.
/// Holds its host, so the daemon lives as long as a guest can call it.
struct Guest {
    let process: GuestProcess
    let host: GuestHost

    /// `curl -i` run by the guest's shell (so curl is a child of it), parsed.
    func request(
        _ path: String, _ curlOptions: String...,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> HTTPResponse {
        try request(path, options: curlOptions, sourceLocation: sourceLocation)
    }

    /// The same, reduced to what the contract fixes.
    func answer(
        _ path: String, _ curlOptions: String...,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Answer {
        Answer(try request(path, options: curlOptions, sourceLocation: sourceLocation))
    }

    func request(_ path: String, options: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> HTTPResponse {
        let output = try process.curl(host.socket, path, options)
        return try #require(
            HTTPResponse(output.stdout), "curl \(path) exited \(output.status): \(output.stderr)",
            sourceLocation: sourceLocation)
    }

    /// Steps on one keep-alive connection opened by the guest (see `HTTPSession`).
    func session(_ steps: [SessionStep], sourceLocation: SourceLocation = #_sourceLocation) throws -> [SessionReply] {
        try HTTPSession.run(steps, socket: host.socket, in: process, sourceLocation: sourceLocation)
    }
}
