import Foundation
import Testing

@testable import GuestStore

@Suite("guestapi-admin instance", .timeLimit(.minutes(3)))
struct AdminInstanceTests {
    @Test func createRecordsTypeIdentityRootUIDAndConfig() throws {
        let cli = try AdminCLI()
        let initProcess = try RunningCommand.sleeping()
        let printed = try cli.succeed(
            "instance", "create", "c1", "--type", "virtual-machine", "--pid", String(initProcess.pid),
            "--cgroup", "/guestapi-test/c1", "--root-uid", "1000",
            "--config", "user.a=1", "--config", "cloud-init.user-data=#cloud-config")

        #expect(printed.contains("c1") && printed.contains("virtual-machine"))
        let shown = try cli.show("c1")
        #expect(shown.type == "virtual-machine")
        #expect(shown.pid == Int(initProcess.pid))
        #expect(shown.pidStartTime == (try startTime(of: initProcess.pid)))
        #expect(shown.cgroup == "/guestapi-test/c1")
        #expect(shown.rootUID == 1000)
        #expect(shown.config["user.a"] == "1")
        #expect(shown.config["cloud-init.user-data"] == "#cloud-config")
        #expect(try cli.journal().first?.metadata == ["action": "instance-created"])
        let table = try cli.succeed("instance", "show", "c1")
        #expect(table.contains("\n  user.a: 1\n") && table.contains("virtual-machine"), "\(table)")
    }

    @Test func aPidInItsOwnNamespaceRecordsTheNamespaceAndOwnsIt() throws {
        let cli = try AdminCLI()
        let container = try GuestProcess(wrapper: ["/usr/bin/unshare", "--pid", "--fork", "--kill-child"])
        let initPID = container.shellPID
        let entered = try GuestProcess(wrapper: ["/usr/bin/nsenter", "--target", String(initPID), "--pid", "--"])
        let otherPID = entered.shellPID

        try cli.succeed("instance", "create", "c1", "--pid", String(initPID))

        let shown = try cli.show("c1")
        #expect(shown.pidnsInode == inode("/proc/\(initPID)/ns/pid"))
        #expect(shown.pidnsInode != inode("/proc/self/ns/pid"))
        let duplicate = try cli.run(["instance", "create", "c2", "--pid", String(otherPID)])
        #expect(duplicate.status != 0)
        #expect(duplicate.stderr.contains("PID namespace") && duplicate.stderr.contains("\"c1\""), "\(duplicate.stderr)")
    }

    @Test func attachRecordsTheNewInitProcess() throws {
        let cli = try AdminCLI()
        let first = try RunningCommand.sleeping()
        let second = try RunningCommand.sleeping()
        try cli.succeed("instance", "create", "c1", "--pid", String(first.pid))

        try cli.succeed("instance", "attach", "c1", "--pid", String(second.pid))

        let instance = try cli.show("c1")
        #expect(instance.pid == Int(second.pid))
        #expect(instance.pidStartTime == (try startTime(of: second.pid)))
        #expect(try cli.journal().last?.metadata == ["action": "instance-attached", "pid": .string(String(second.pid))])
    }

    @Test func listSpansAllInstancesUnlessOneIsNamed() throws {
        let cli = try AdminCLI()
        try cli.succeed("instance", "create", "b")
        try cli.succeed("instance", "create", "a", "--type", "virtual-machine")

        #expect(try cli.json([ShownInstance].self, "instance", "list").map(\.name) == ["a", "b"])
        #expect(try cli.json([ShownInstance].self, "instance", "list", "--instance", "b").map(\.name) == ["b"])
        let table = try cli.succeed("instance", "list").split(separator: "\n")
        try #require(table.count == 3, "\(table)")
        #expect(table[0].hasPrefix("NAME"))
        #expect(table[1].hasPrefix("a ") && table[1].contains("virtual-machine"))
    }

    @Test func deleteRemovesTheInstanceWithItsConfigAndDevices() throws {
        let cli = try AdminCLI.populated()

        try cli.succeed("instance", "delete", "c1")

        #expect(try cli.json([ShownInstance].self, "instance", "list").isEmpty)
        let snapshot = try cli.snapshot()
        #expect(snapshot.count("config") == 0 && snapshot.count("devices") == 0)
        #expect(try cli.journal().last?.metadata == ["action": "instance-deleted"])
        #expect(try cli.run(["instance", "show", "c1"]).status != 0)
    }
}

@Suite("guestapi-admin set, unset, get, config list", .timeLimit(.minutes(3)))
struct AdminConfigTests {
    @Test func setStoresTheValueGetPrintsIt() throws {
        let cli = try AdminCLI.populated()
        try cli.succeed("set", "user.foo", "hello world")
        #expect(try cli.succeed("get", "user.foo") == "hello world\n")
        #expect(try cli.json([String: String].self, "get", "user.foo") == ["user.foo": "hello world"])
    }

    static let binaryValue: [UInt8] = [0, 1, 2, 0xff, 0xfe, 0x0a, 0x22] + Array("end".utf8)

    @Test func setFromAFileKeepsTheExactBytes() throws {
        let cli = try AdminCLI.populated()
        let file = cli.state.directory + "/value.bin"
        try Data(Self.binaryValue).write(to: URL(fileURLWithPath: file))

        try cli.succeed("set", "user.blob", "--file", file)

        #expect(Array(try cli.run(["get", "user.blob"]).stdout) == Self.binaryValue + [0x0a])
    }

    @Test func setFromStandardInputKeepsTheExactBytes() throws {
        let cli = try AdminCLI.populated()
        try cli.succeed("set", "user.blob", "--file", "-", stdin: Self.binaryValue)
        #expect(Array(try cli.run(["get", "user.blob"]).stdout) == Self.binaryValue + [0x0a])
    }

    @Test func unsetRemovesTheKeyAndJournalsTheOldValue() throws {
        let cli = try AdminCLI.populated()
        try cli.succeed("unset", "user.a")

        #expect(try cli.run(["get", "user.a"]).stderr.contains("not set"))
        #expect(try cli.journal().last?.metadata == ["key": "user.a", "old_value": "1", "value": ""])
    }

    @Test func configListShowsEveryKey() throws {
        let cli = try AdminCLI.populated()
        try cli.succeed("set", "user.b", "two")

        let config = try cli.json([String: String].self, "config", "list")
        #expect(config.filter { !$0.key.hasPrefix("volatile.") } == ["user.a": "1", "user.b": "two"])
        #expect(config["volatile.cloud-init.instance-id"] != nil)
        let table = try cli.succeed("config", "list")
        #expect(table.hasPrefix("KEY"))
        #expect(table.contains("user.b") && table.contains("two"))
    }

    @Test func aChangeIsJournaledWithItsOldAndNewValue() throws {
        let cli = try AdminCLI.populated()
        try cli.succeed("set", "user.foo", "bar")
        try cli.succeed("set", "user.foo", "baz")

        let lastLine = try cli.succeed("journal", "--json").split(separator: "\n").last ?? ""
        #expect(lastLine.hasSuffix(#","metadata":{"key":"user.foo","old_value":"bar","value":"baz"}}"#))
        #expect(try cli.journal().last?.metadata == ["key": "user.foo", "old_value": "bar", "value": "baz"])
    }

    @Test func settingTheSameValueAgainChangesNothing() throws {
        let cli = try AdminCLI.populated()
        try cli.succeed("set", "user.foo", "bar")
        let before = try cli.snapshot()

        try cli.succeed("set", "user.foo", "bar")

        #expect(try cli.snapshot() == before)
    }
}

@Suite("which instance a command is about", .timeLimit(.minutes(3)))
struct AdminTargetTests {
    @Test func theOnlyInstanceNeedsNoName() throws {
        let cli = try AdminCLI()
        try cli.succeed("instance", "create", "c1")

        let result = try cli.runLiteral("set", "user.foo", "bar")

        #expect(result.status == 0, "\(result.stderr)")
        #expect(try cli.succeed("get", "user.foo", "--instance", "c1") == "bar\n")
    }

    @Test func environmentSelectsTheInstance() throws {
        let cli = try AdminCLI()
        try cli.succeed("instance", "create", "c1")
        try cli.succeed("instance", "create", "c2")

        #expect(try cli.runLiteral("set", "user.foo", "bar", environment: ["GUESTAPI_INSTANCE": "c2"]).status == 0)

        #expect(try cli.show("c2").config["user.foo"] == "bar")
        #expect(try cli.show("c1").config["user.foo"] == nil)
    }

    @Test func theOptionWinsOverTheEnvironment() throws {
        let cli = try AdminCLI()
        try cli.succeed("instance", "create", "c1")
        try cli.succeed("instance", "create", "c2")

        try cli.succeed("set", "user.foo", "bar", "--instance", "c1", environment: ["GUESTAPI_INSTANCE": "c2"])

        #expect(try cli.show("c1").config["user.foo"] == "bar")
        #expect(try cli.show("c2").config["user.foo"] == nil)
    }
}

@Suite("volatile keys", .timeLimit(.minutes(3)))
struct AdminVolatileTests {
    static let instanceIDKey = "volatile.cloud-init.instance-id"
    static let cloudInitInputs = [
        "cloud-init.user-data", "cloud-init.vendor-data", "cloud-init.network-config",
        "user.user-data", "user.vendor-data", "user.network-config",
    ]

    @Test func instanceIDIsAUUIDMadeAtCreation() throws {
        let cli = try AdminCLI()
        try cli.succeed("instance", "create", "c1")
        let id = try #require(try cli.show("c1").config[Self.instanceIDKey])
        #expect(UUID(uuidString: id) != nil, "\(id)")
    }

    @Test(arguments: cloudInitInputs)
    func instanceIDChangesWithCloudInitInput(key: String) throws {
        let cli = try AdminCLI.populated()
        var seen = [try cli.show("c1").config[Self.instanceIDKey]]

        try cli.succeed("set", key, "first")  // added
        seen.append(try cli.show("c1").config[Self.instanceIDKey])
        try cli.succeed("set", key, "second")  // changed
        seen.append(try cli.show("c1").config[Self.instanceIDKey])

        #expect(!seen.contains(nil))
        #expect(Set(seen).count == 3, "\(seen)")
    }

    @Test func instanceIDStaysWhenOtherKeysChange() throws {
        let cli = try AdminCLI.populated()
        let before = try cli.show("c1").config[Self.instanceIDKey]

        try cli.succeed("set", "user.foo", "bar")
        try cli.succeed("set", "user.foo", "baz")
        try cli.succeed("set", "cloud-init.other", "x")

        #expect(try cli.show("c1").config[Self.instanceIDKey] == before)
    }

    /// A device's volatile keys go with it, and only its own: not those of a device whose name
    /// starts with its name and a dot, nor the instance id of a device named `cloud-init`.
    @Test func removingADeviceTakesOnlyItsOwnVolatileKeys() throws {
        let cli = try AdminCLI.populated()
        let instanceID = try #require(try cli.show("c1").config[Self.instanceIDKey])
        for name in ["a", "a.b", "cloud-init"] { try cli.succeed("device", "add", name, "nic", "network=br0") }
        try #require(try cli.show("c1").config["volatile.a.b.hwaddr"] != nil)

        try cli.succeed("device", "remove", "a")
        try cli.succeed("device", "remove", "cloud-init")

        let config = try cli.show("c1").config
        #expect(config["volatile.a.hwaddr"] == nil && config["volatile.cloud-init.hwaddr"] == nil)
        #expect(config["volatile.a.b.hwaddr"] != nil)
        #expect(config[Self.instanceIDKey] == instanceID)
    }

    @Test func aNicWithoutHwaddrGetsOne() throws {
        let cli = try AdminCLI.populated()
        try cli.succeed("device", "add", "eth0", "nic", "network=br0")
        try cli.succeed("device", "add", "eth1", "nic", "hwaddr=00:16:3e:00:00:01")

        let config = try cli.show("c1").config
        let hwaddr = try #require(config["volatile.eth0.hwaddr"])
        #expect(hwaddr.wholeMatch(of: /10:66:6a(:[0-9a-f]{2}){3}/) != nil, "\(hwaddr)")
        #expect(config["volatile.eth1.hwaddr"] == nil)
    }
}

@Suite("--format json", .timeLimit(.minutes(3)))
struct AdminJSONOutputTests {
    static let commands: [[String]] = [
        ["instance", "list"], ["instance", "show", "c1"], ["instance", "create", "c2"],
        ["config", "list"], ["get", "user.a"], ["device", "list"], ["image", "list"],
        ["journal"], ["journal", "prune", "--keep", "100"], ["apply", "-"],
    ]

    @Test(arguments: commands)
    func outputParsesAsJSON(command: [String]) throws {
        let cli = try AdminCLI.populated()
        let desired = Array(#"{"instances":[{"name":"c1","config":{"user.a":"1"},"devices":{"d1":{"type":"disk","path":"/mnt"}}}]}"#.utf8)

        let output = try cli.succeed(command + ["--format", "json"], stdin: desired)

        let documents = try JSONValue.parseLines(Array(output.utf8))
        #expect(!documents.isEmpty)
        #expect(command == ["journal"] || documents.count == 1, "\(output)")
    }
}

func inode(_ path: String) -> Int? {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_ino) : nil
}

/// Field 22 of /proc/PID/stat: the start time the CLI must record with `--pid`.
func startTime(of pid: Int32) throws -> Int {
    let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
    let afterName = try #require(stat.range(of: ")", options: .backwards)).upperBound
    let fields = stat[afterName...].split(separator: " ")  // fields[0] is field 3
    try #require(fields.count > 22 - 3, "\(stat)")
    return try #require(Int(fields[22 - 3]))
}

/// The before/after comparisons above are only as good as the snapshot: it must see everything.
@Suite("DatabaseSnapshot", .timeLimit(.minutes(3)))
struct DatabaseSnapshotTests {
    @Test func coversEveryTable() throws {
        let cli = try AdminCLI.populated()
        let tables = Set(try cli.snapshot().tables.keys)
        #expect(
            tables.isSuperset(of: [
                "instances", "config", "devices", "images", "journal",
                "schema_migrations", "sqlite_sequence", "sqlite_master",
            ]))
    }

    @Test(arguments: [["set", "user.a", "2"], ["journal", "prune", "--keep", "1"], ["device", "set", "d1", "readonly=true"]])
    func seesAChange(command: [String]) throws {
        let cli = try AdminCLI.populated()
        let before = try cli.snapshot()
        try cli.succeed(command)
        #expect(try cli.snapshot() != before)
    }

    @Test func seesAValueChangeOfTheSameLengthAndTheSchemaVersion() throws {
        let cli = try AdminCLI.populated()
        let before = try cli.snapshot()
        let db = try Database(path: cli.state.database)
        try db.execute("UPDATE journal SET ts_ns = ts_ns + 1 WHERE id = 1")
        let touched = try cli.snapshot()
        #expect(touched != before)
        try db.execute("PRAGMA user_version = \(Migrator.standard.latestVersion + 1)")
        #expect(try cli.snapshot() != touched)
    }
}
