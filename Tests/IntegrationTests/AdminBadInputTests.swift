import Foundation
import Testing

@testable import GuestStore

/// Bad input ends with one line on stderr naming the problem, a non-zero exit, and no change.
@Suite("guestapi-admin bad input", .timeLimit(.minutes(3)))
struct AdminBadInputTests {
    struct BadInput: Sendable, CustomTestStringConvertible {
        var label: String
        var arguments: [String]
        /// What the error line must mention.
        var problem: String
        var stdin: String?

        var testDescription: String { label }
    }

    static let arguments: [BadInput] = [
        .init(label: "key without a dot", arguments: ["set", "nodot", "v"], problem: "\"nodot\""),
        .init(label: "key with a space", arguments: ["set", "user.a b", "v"], problem: "\"user.a b\""),
        .init(label: "key with a slash", arguments: ["set", "user.a/b", "v"], problem: "'/'"),
        .init(label: "key of 257 bytes", arguments: ["set", "user." + String(repeating: "x", count: 252), "v"], problem: "256 bytes"),
        .init(label: "non-ASCII key", arguments: ["set", "user.é", "v"], problem: "ASCII"),
        .init(label: "empty name after the dot", arguments: ["set", "user.", "v"], problem: "namespace.name"),
        .init(label: "malformed key to unset", arguments: ["unset", "user a"], problem: "\"user a\""),
        .init(label: "malformed key in --config", arguments: ["instance", "create", "c2", "--config", "bad/key=v"], problem: "bad/key"),
        .init(label: "unknown instance", arguments: ["set", "user.b", "v", "--instance", "nope"], problem: "\"nope\" not found"),
        .init(label: "unknown instance to delete", arguments: ["instance", "delete", "nope"], problem: "\"nope\" not found"),
        .init(label: "duplicate instance", arguments: ["instance", "create", "c1"], problem: "\"c1\" already exists"),
        .init(label: "--config without =", arguments: ["instance", "create", "c2", "--config", "user.b"], problem: "\"user.b\""),
        .init(label: "--config with an empty key", arguments: ["instance", "create", "c2", "--config", "=v"], problem: "\"=v\""),
        .init(label: "device setting without =", arguments: ["device", "add", "d2", "disk", "path"], problem: "\"path\""),
        .init(label: "device setting with an empty key", arguments: ["device", "set", "d1", "=x"], problem: "\"=x\""),
        .init(label: "duplicate device", arguments: ["device", "add", "d1", "disk"], problem: "\"d1\" already exists"),
        .init(label: "unknown device", arguments: ["device", "remove", "nope"], problem: "\"nope\" not found"),
        .init(
            label: "missing --file", arguments: ["set", "user.b", "--file", "/nonexistent/guestapi-value"],
            problem: "/nonexistent/guestapi-value"),
        .init(
            label: "missing apply file", arguments: ["apply", "/nonexistent/guestapi-state.json"],
            problem: "/nonexistent/guestapi-state.json"),
        .init(
            label: "apply: malformed key", arguments: ["apply", "-"], problem: "\"user.a b\"",
            stdin: #"{"instances":[{"name":"c1","config":{"user.a b":"1"}}]}"#),
        .init(
            label: "apply: malformed device key", arguments: ["apply", "-"], problem: "\"bad key\"",
            stdin: #"{"instances":[{"name":"c1","devices":{"d1":{"type":"disk","bad key":"x"}}}]}"#),
        .init(label: "apply: not JSON", arguments: ["apply", "-"], problem: "invalid JSON at line 1, column 2", stdin: "{"),
        .init(
            label: "apply: JSON broken on line 3", arguments: ["apply", "-"],
            problem: "invalid JSON at line 3, column 17: expected ',' or '}'",
            stdin: "{\"instances\": [\n  {\"name\": \"c1\",\n   \"config\": {} \"devices\": {}}]}"),
        .init(
            label: "apply: a misspelled field", arguments: ["apply", "-"], problem: "instances[1].confg: unknown field",
            stdin: #"{"instances":[{"name":"c0"},{"name":"c1","confg":{"user.a":"2"}}]}"#),
        .init(
            label: "apply: a field of the wrong type", arguments: ["apply", "-"], problem: "instances[0].root_uid: expected a whole number",
            stdin: #"{"instances":[{"name":"c1","root_uid":1.5}]}"#),
        .init(
            label: "apply: a name given twice", arguments: ["apply", "-"], problem: "instances[1].name: instance \"c1\" is listed twice",
            stdin: #"{"instances":[{"name":"c1"},{"name":"c1"}]}"#),
        .init(label: "apply: no instances", arguments: ["apply", "-"], problem: "instances: missing", stdin: "{}"),
        .init(
            label: "apply: an unknown device type", arguments: ["apply", "-"],
            problem: "instances[0].devices.d1.type: unknown device type \"bogus\"",
            stdin: #"{"instances":[{"name":"c1","devices":{"d1":{"type":"bogus"}}}]}"#),
        .init(
            label: "apply: pid 1", arguments: ["apply", "-"], problem: "pid 1 is the host's init",
            stdin: #"{"instances":[{"name":"c1","pid":1}]}"#),
        .init(label: "an unknown device type", arguments: ["device", "add", "eth1", "bogus"], problem: "unknown device type \"bogus\""),
        .init(label: "pid 1", arguments: ["instance", "create", "c2", "--pid", "1"], problem: "pid 1 is the host's init"),
        .init(label: "kthreadd", arguments: ["instance", "create", "c2", "--pid", "2"], problem: "pid 2 is a kernel thread"),
        .init(label: "attach to pid 1", arguments: ["instance", "attach", "c1", "--pid", "1"], problem: "pid 1 is the host's init"),
        .init(
            label: "apply: a later instance fails", arguments: ["apply", "-"], problem: "already belongs to instance \"c2\"",
            stdin: #"{"instances":[{"name":"c1","config":{"user.a":"2"}},{"name":"c2","cgroup":"/x"},{"name":"c3","cgroup":"/x"}]}"#),
        .init(
            label: "a pid that is no process", arguments: ["instance", "create", "c2", "--pid", "2147483647"],
            problem: "no process with pid 2147483647"),
    ]

    @Test(arguments: arguments)
    func isRejectedAndChangesNothing(_ input: BadInput) throws {
        let cli = try AdminCLI.populated()
        try expectRejected(cli, input.arguments, stdin: input.stdin, problem: input.problem)
    }

    @Test func severalInstancesAndNoneNamed() throws {
        let cli = try AdminCLI.populated()
        try cli.succeed("instance", "create", "c2")
        try expectRejected(cli, ["set", "user.b", "v"], problem: "c1, c2")
    }

    @Test func readOnlyDatabase() throws {
        let cli = try AdminCLI.populated()
        let before = try cli.snapshot()
        try cli.state.makeImmutable(cli.state.database)
        // We are root: only the immutable attribute makes the file truly unwritable.
        let fd = open(cli.state.database, O_WRONLY)
        if fd >= 0 { close(fd) }
        try #require(fd < 0, "root can still write the database: chattr +i did not take")

        try expectRejected(cli, ["set", "user.b", "v"], problem: "read-only", snapshot: before)
    }

    @Test func fileThatIsNotADatabase() throws {
        let cli = try AdminCLI()
        try FileManager.default.createDirectory(atPath: cli.state.images, withIntermediateDirectories: true)
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) })
        try garbage.write(to: URL(fileURLWithPath: cli.state.database))

        let result = try cli.run(["set", "user.b", "v"])

        expectOneLineError(result, problem: "not a guestapi database")
        #expect(FileManager.default.contents(atPath: cli.state.database) == garbage)
    }

    @Test(arguments: [["set", "user.b", "v"], ["instance", "list"]])
    func databaseFromANewerSchema(command: [String]) throws {
        let cli = try AdminCLI.populated()
        try Database(path: cli.state.database).execute("PRAGMA user_version = 99")
        try expectRejected(cli, command, problem: "schema version 99 is newer")
    }

    /// Output to a full disk and input that cannot be read: one line, exit 1, nothing changed.
    /// Foundation's FileHandle trapped on both, a crash with a backtrace.
    @Test(arguments: [
        (["instance", "list"], ">/dev/full", "cannot write the output: No space left on device"),
        (["apply", "-"], "</", "cannot read stdin: Is a directory"),
        (["set", "user.b", "--file", "-"], "</", "cannot read stdin: Is a directory"),
        (["set", "user.b", "--file", "/"], "", "cannot read /: Is a directory"),
    ])
    func unwritableOutputAndUnreadableInput(arguments: [String], redirection: String, problem: String) throws {
        let cli = try AdminCLI.populated()
        let before = try cli.snapshot()

        let result = try Command("/bin/sh", ["-c", #"exec "$0" "$@" "# + redirection, Binaries.admin] + arguments + cli.state.arguments)
            .run()

        #expect(result.status == 1)
        expectOneLineError(result, problem: problem)
        #expect(try cli.snapshot() == before)
    }

    /// Runs `arguments` and checks the failure: exit, one stderr line, database content as before.
    func expectRejected(
        _ cli: AdminCLI, _ arguments: [String], stdin: String? = nil, problem: String,
        snapshot: DatabaseSnapshot? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let before = try snapshot ?? cli.snapshot()
        let result = try cli.run(arguments, stdin: stdin.map { Array($0.utf8) })
        expectOneLineError(result, problem: problem, sourceLocation: sourceLocation)
        let after = try cli.snapshot()
        #expect(after.count("journal") == before.count("journal"), sourceLocation: sourceLocation)
        #expect(after == before, sourceLocation: sourceLocation)
    }

    func expectOneLineError(_ result: CommandResult, problem: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status != 0, "\(result.command) succeeded", sourceLocation: sourceLocation)
        #expect(result.stderr.hasSuffix("\n") && result.stderrLines.count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(problem), "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
    }
}
