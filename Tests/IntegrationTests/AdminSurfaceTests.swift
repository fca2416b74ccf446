import Foundation
import Testing

/// The admin surface is safe by default (README, "Admin CLI"): reading never creates, mistakes
/// are one line that says what to do, `apply` reads strictly and can be previewed, `export`
/// writes what `apply` reads, and every JSON output has one shape.
@Suite(.timeLimit(.minutes(3)))
struct AdminSurfaceTests {
    static let readOnly: [[String]] = [
        ["instance", "list"], ["instance", "show", "c1"], ["get", "user.a"], ["config", "list"], ["device", "list"],
        ["image", "list"], ["journal"], ["export"],
    ]

    /// One line on stderr naming `problem`, exit 1, nothing on stdout.
    func expectOneLine(_ result: CommandResult, _ problem: String, status: Int32 = 1, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == status, "\(result.command): \(result.status) \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderrLines.count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(problem), "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
    }

    @Test(arguments: readOnly + [["set", "user.a", "b"], ["device", "add", "d1", "disk"], ["journal", "prune", "--keep", "1"]])
    func aCommandThatDoesNotCreateFindsNoStateAndMakesNone(command: [String]) throws {
        let parent = try TemporaryState()
        let missing = parent.directory + "/no-such-state"

        let result = try Command(Binaries.admin, command + ["--state-dir", missing]).run()

        expectOneLine(result, "no guestapi state at \(missing) (no such folder)")
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test(arguments: readOnly)
    func aReadOnlyCommandInAFolderWithoutADatabaseWritesNothingThere(command: [String]) throws {
        let folder = try TemporaryState()

        let result = try Command(Binaries.admin, command + folder.arguments).run()

        expectOneLine(result, "no guestapi database at \(folder.database)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.directory).isEmpty)
    }

    static let nobody = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

    /// A user whose own (default) state is empty while root's exists is told about both.
    @Test func aUserWithoutAStatePointedToRoots() throws {
        let root = "/var/lib/guestapi"
        let made = !FileManager.default.fileExists(atPath: root)
        if made { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) }
        defer { if made { try? FileManager.default.removeItem(atPath: root) } }
        let home = try TemporaryState()
        chmod(home.directory, 0o777)

        let result = try Command(
            Self.nobody[0], Array(Self.nobody.dropFirst()) + [Binaries.admin, "instance", "list"],
            environment: ["HOME": home.directory, "XDG_STATE_HOME": ""]
        ).run()

        expectOneLine(result, "no guestapi state at \(home.directory)/.local/state/guestapi")
        #expect(result.stderr.contains("the daemon's state is \(root): run as root, or give --state-dir \(root)"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: home.directory + "/.local"))
    }

    /// Root's state, written by someone else: a permission problem, said as one.
    @Test(arguments: ["0600", "0644"])
    func aWriteToRootsStateByAnotherUserSaysPermissionDenied(databaseMode: String) throws {
        let cli = try AdminCLI.populated()
        chmod(cli.state.directory, 0o755)
        chmod(cli.state.database, databaseMode == "0600" ? 0o600 : 0o644)
        let before = try cli.snapshot()

        let result = try Command(
            Self.nobody[0], Array(Self.nobody.dropFirst()) + [Binaries.admin, "set", "user.a", "2"] + cli.state.arguments
        ).run()

        expectOneLine(result, "permission denied: \(cli.state.database) (run as root")
        #expect(try cli.snapshot() == before)
    }

    /// `apply --dry-run` says what would change and changes nothing: the file stays byte for byte.
    @Test func aDryRunPrintsThePlanAndLeavesTheDatabaseAsItWas() throws {
        let cli = try AdminCLI.populated()  // c1: user.a=1, disk d1
        try cli.succeed("instance", "create", "gone")
        let bytes = FileManager.default.contents(atPath: cli.state.database)
        let state =
            #"{"instances":[{"name":"c1","config":{"user.a":"2","user.b":"x"},"devices":{"eth0":{"type":"nic"}}},{"name":"new","config":{"user.n":"1"}}]}"#

        let output = try cli.succeed(["apply", "-", "--prune", "--dry-run"], stdin: Array(state.utf8))

        #expect(
            output == """
                change c1: set user.a, set user.b, add device eth0, remove device d1
                create new: set user.n
                delete gone
                would create 1, change 1, delete 1; 0 unchanged

                """)
        #expect(FileManager.default.contents(atPath: cli.state.database) == bytes)
        // With no state at all: all created, nothing made.
        let empty = try TemporaryState()
        let fresh = try Command(Binaries.admin, ["apply", "-", "--dry-run"] + empty.arguments, stdin: Array(state.utf8)).run()
            .requireSuccess()
        #expect(fresh.stdoutText.hasSuffix("would create 2, change 0, delete 0; 0 unchanged\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: empty.directory).isEmpty)
    }

    /// 1,000 instances with config and devices, one of them stopped: exported and applied back,
    /// nothing changes and nothing is journaled.
    @Test func exportThenApplyChangesNothing() throws {
        let cli = try AdminCLI()
        let stopped = try RunningCommand.sleeping()
        let instances =
            (0..<1000).map { i -> [String: Any] in
                [
                    "name": "i\(i)", "root_uid": i % 3 == 0 ? 100_000 : 0,
                    "config": ["user.n": "\(i)", "cloud-init.user-data": "#cloud-config\nhostname: i\(i)\n"],
                    "devices": ["eth0": ["type": "nic", "network": "br0"], "data": ["type": "disk", "path": "/mnt/\(i)"]],
                ]
            } + [["name": "stopped", "pid": Int(stopped.pid)]]
        try cli.succeed(["apply", "-"], stdin: Array(try JSONSerialization.data(withJSONObject: ["instances": instances])))
        stopped.signal(SIGKILL)
        _ = try stopped.wait()
        let head = try cli.journal("--limit", "1").last?.id

        let exported = try cli.succeed("export")
        let applied = try cli.succeed(["apply", "-"], stdin: Array(exported.utf8))

        #expect(applied == "created 0, updated 0, deleted 0, unchanged 1001\n")
        #expect(try cli.journal("--limit", "1").last?.id == head, "nothing journaled")
        #expect(try cli.succeed("export") == exported)
        #expect(try cli.show("stopped").state == "Stopped")
    }

    @Test func instanceShowOutputIsAcceptedByApply() throws {
        let cli = try AdminCLI.populated()
        let shown = try cli.succeed("instance", "show", "c1", "--format", "json")
        let head = try cli.journal().last?.id

        #expect(try cli.succeed(["apply", "-"], stdin: Array(shown.utf8)) == "created 0, updated 0, deleted 0, unchanged 1\n")
        #expect(try cli.journal().last?.id == head)
    }

    /// A value that is not UTF-8 is exported as base64 and applied back byte for byte.
    @Test func bytesThatAreNotUTF8SurviveExportAndApply() throws {
        let cli = try AdminCLI.populated()
        let bytes: [UInt8] = [0xff, 0x00, 0xc3, 0x28, 0x61]
        try cli.succeed(["set", "user.bin", "--file", "-"], stdin: bytes)
        let exported = try cli.succeed("export")
        #expect(exported.contains(#""user.bin":{"base64":"/wDDKGE="}"#), "\(exported)")
        try cli.succeed("unset", "user.bin")

        try cli.succeed(["apply", "-"], stdin: Array(exported.utf8))

        let value = try cli.run(["get", "user.bin"]).stdout
        #expect(Array(value.dropLast()) == bytes)
    }

    /// snake_case names and RFC 3339 times in every JSON the CLI prints.
    @Test func everyJSONOutputHasOneShape() throws {
        let cli = try AdminCLI.populated()
        let image = cli.state.directory + "/i.img"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: image))
        try cli.succeed("image", "import", image)
        let outputs = [
            try cli.succeed("instance", "list", "--format", "json"), try cli.succeed("instance", "show", "c1", "--format", "json"),
            try cli.succeed("export"), try cli.succeed("image", "list", "--format", "json"), try cli.succeed("journal", "--json"),
        ]
        for output in outputs {
            for key in output.matches(of: #/"([a-z_.0-9-]*[A-Z][A-Za-z_.0-9-]*)":/#).map({ String($0.output.1) }) {
                Issue.record("a key that is not snake_case: \(key) in \(output)")
            }
        }
        let shown = try cli.show("c1")
        #expect(shown.createdAt?.wholeMatch(of: GuestEvent.timestamp) != nil, "\(String(describing: shown.createdAt))")
        #expect(shown.state == "Unbound", "registered without an init or a cgroup")
        #expect(try cli.json([ListedImage].self, "image", "list").first?.createdAt.wholeMatch(of: GuestEvent.timestamp) != nil)
    }

    @Test func anInstanceWhoseInitIsGoneIsStopped() throws {
        let cli = try AdminCLI()
        let process = try RunningCommand.sleeping()
        try cli.succeed("instance", "create", "c1", "--pid", String(process.pid))
        #expect(try cli.show("c1").state == "Started")

        process.signal(SIGKILL)
        _ = try process.wait()

        #expect(try cli.show("c1").state == "Stopped")
        #expect(try cli.succeed("instance", "list").contains("Stopped"))
    }

    /// With a cgroup, the instance runs while any process is left in it: its init exiting
    /// first (a runtime's setup process) is not a stop; the last one leaving is.
    @Test func anInstanceWithACgroupIsStoppedWhenTheCgroupEmpties() throws {
        let cli = try AdminCLI()
        let cgroup = try TestCgroup()
        let initProcess = try RunningCommand.sleeping()
        let worker = try RunningCommand.sleeping()
        try cgroup.add(initProcess.pid)
        try cgroup.add(worker.pid)
        try cli.succeed("instance", "create", "c1", "--pid", String(initProcess.pid), "--cgroup", cgroup.path)

        initProcess.signal(SIGKILL)
        _ = try initProcess.wait()
        #expect(try cli.show("c1").state == "Started", "a process is left in its cgroup")

        worker.signal(SIGKILL)
        _ = try worker.wait()
        #expect(try cli.show("c1").state == "Stopped")
    }

    /// A nic's `volatile.<name>.hwaddr` goes with it, journaled; one added again gets a new one.
    @Test func removingADeviceRemovesItsVolatileKeys() throws {
        let cli = try AdminCLI.populated()
        try cli.succeed("device", "add", "eth0", "nic")
        try cli.succeed("device", "add", "eth00", "nic")
        let hwaddr = try cli.succeed("get", "volatile.eth0.hwaddr")

        try cli.succeed("device", "remove", "eth0")

        #expect(try cli.run(["get", "volatile.eth0.hwaddr"]).status == 1)
        #expect(try cli.run(["get", "volatile.eth00.hwaddr"]).status == 0, "another device's key stays")
        let removed = try cli.journal("--type", "config").last
        #expect(removed?.key == "volatile.eth0.hwaddr" && removed?.metadata["value"]?.string == "")
        try cli.succeed("device", "add", "eth0", "nic")
        #expect(try cli.succeed("get", "volatile.eth0.hwaddr") != hwaddr)
    }

    @Test func bothBinariesSayTheirVersion() throws {
        for binary in [Binaries.admin, Binaries.daemon] {
            let result = try Command(binary, ["--version"]).run().requireSuccess()
            // The package's version, and the commit when built from a git checkout (as here).
            #expect(result.stdoutText.wholeMatch(of: #/\d+\.\d+\.\d+( \([0-9a-f]{7,}(-dirty)?\))?\n/#) != nil, "\(result.stdoutText)")
        }
    }

    @Test func sighupDoesNotStopTheDaemon() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.a=1")

        host.daemon.process.signal(SIGHUP)
        usleep(200_000)

        #expect(host.daemon.process.isRunning)
        #expect(try guest.answer("/1.0/config/user.a") == .raw("1"))
        #expect(host.daemon.process.stderrSoFar.contains("SIGHUP ignored"))
    }

    /// Usage errors exit 64, other errors 1 (the README says which).
    @Test func aNegativeLimitIsAUsageErrorThatSaysSo() throws {
        let cli = try AdminCLI.populated()
        expectOneLine(try cli.run(["journal", "--limit", "-1"]), "--limit must not be negative", status: 64)
        expectOneLine(try cli.run(["instance", "create", "c2", "--root-uid", "-5"]), "--root-uid must be a uid", status: 64)
        expectOneLine(try cli.run(["get", "user.nope"]), "key \"user.nope\" is not set", status: 1)
    }
}
