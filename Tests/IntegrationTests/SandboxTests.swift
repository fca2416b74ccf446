import Foundation
import Testing

/// The daemon under its unit's sandbox (tools/deploy/systemd/guestapid.service), as far as it
/// can be made without a running systemd: every mount read-only but the state folder
/// (`ProtectSystem=strict`, `ReadWritePaths=`), no new privileges (`NoNewPrivileges=`), and
/// no capability but CAP_SYS_PTRACE (`CapabilityBoundingSet=`). It serves an instance of
/// another uid in a PID namespace of its own, to a process entered into that namespace (only
/// the namespace rule recognizes it); without CAP_SYS_PTRACE it cannot, which is why the unit
/// keeps that one.
@Suite(.timeLimit(.minutes(3)))
struct SandboxTests {
    /// A wrapper that runs the daemon so, keeping `capabilities` (setpriv's names).
    static func sandbox(state: String, capabilities: String) -> [String] {
        let script = """
            set -e
            mount --bind '\(state)' '\(state)'
            for m in $(awk '{print $5}' /proc/self/mountinfo | sort -u); do
                [ "$m" = '\(state)' ] || mount -o remount,bind,ro "$m" 2>/dev/null || true
            done
            touch /guestapi-sandbox-probe 2>/dev/null && { echo "the root is writable" >&2; exit 99; }
            exec /usr/bin/setpriv --no-new-privs --inh-caps=-all --bounding-set=-all\(capabilities) "$0" "$@"
            """
        return ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script]
    }

    /// The instance: uid 1000 in a PID namespace of its own; the caller: a process entered into
    /// it, as `runc exec` or `lxc-attach` enter theirs (no descendant of the registered init).
    static func enteredCaller(_ cli: AdminCLI, socket: String) throws -> (GuestProcess, [String]) {
        let instance = try GuestProcess(wrapper: [
            "/usr/bin/unshare", "--pid", "--fork", "--mount-proc", "/usr/bin/setpriv", "--reuid=1000", "--regid=1000", "--clear-groups",
        ])
        try cli.succeed(
            "instance", "create", "c1", "--pid", String(instance.shellPID), "--root-uid", "1000", "--config", "user.whoami=c1")
        chmod(cli.state.directory, 0o755)  // so that uid 1000 reaches the socket, as through a bind mount
        let curl = [
            "/usr/bin/nsenter", "-t", String(instance.shellPID), "-p", "--", "/usr/bin/setpriv", "--reuid=1000", "--regid=1000",
            "--clear-groups", "/usr/bin/curl", "-s", "-i", "--max-time", "10", "--unix-socket", socket,
            "http://guest/1.0/config/user.whoami",
        ]
        return (instance, curl)
    }

    static func answer(_ curl: [String]) throws -> Answer {
        let result = try Command(curl[0], Array(curl.dropFirst())).run()
        let response = HTTPResponse(result.stdout)
        try #require(response != nil, "\(curl.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        return Answer(response!)
    }

    @Test func theDaemonServesInTheUnitsSandbox() throws {
        let cli = try AdminCLI()
        let daemon = try Daemon(state: cli.state, wrapper: Self.sandbox(state: cli.state.directory, capabilities: ",+sys_ptrace"))
        let status = try String(contentsOfFile: "/proc/\(daemon.pid)/status", encoding: .utf8)
        #expect(status.contains("NoNewPrivs:\t1"), "\(status)")
        #expect(status.contains("CapBnd:\t0000000000080000"), "only CAP_SYS_PTRACE (bit 19): \(status)")
        let (instance, curl) = try Self.enteredCaller(cli, socket: daemon.socket)
        #expect(try Self.answer(curl) == .raw("c1"))
        try cli.succeed("set", "user.whoami", "changed", "--instance", "c1")
        #expect(try Self.answer(curl) == .raw("changed"), "the daemon follows commits with its root read-only")
        _ = instance
    }

    /// The same without CAP_SYS_PTRACE: another uid's PID namespace cannot be read, so the
    /// entered process is not identified (503, try again), and the daemon says why.
    @Test func withoutPtraceAnotherUsersNamespaceCannotBeRead() throws {
        let cli = try AdminCLI()
        let daemon = try Daemon(state: cli.state, wrapper: Self.sandbox(state: cli.state.directory, capabilities: ""))
        let (instance, curl) = try Self.enteredCaller(cli, socket: daemon.socket)
        let answer = try Self.answer(curl)
        #expect(answer.status == 503 && answer.text == "cannot identify the caller now; try again\n", "\(answer)")
        let deadline = Date().addingTimeInterval(10)
        while !daemon.process.stderrSoFar.contains("/proc could not be read") && Date() < deadline { usleep(10_000) }
        #expect(daemon.process.stderrSoFar.contains("caller not identified: /proc could not be read"), "\(daemon.process.stderrSoFar)")
        #expect(daemon.process.isRunning)
        _ = instance
    }
}
