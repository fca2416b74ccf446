import Foundation
import GuestStore
import Testing

@Suite("guestapi-admin apply", .timeLimit(.minutes(3)))
struct AdminApplyTests {
    /// Writes `json` into the state folder and applies it.
    @discardableResult
    func apply(_ cli: AdminCLI, _ json: String, _ options: String...) throws -> String {
        let file = cli.state.directory + "/desired.json"
        try Data(json.utf8).write(to: URL(fileURLWithPath: file))
        return try cli.succeed(["apply", file] + options)
    }

    func userConfig(_ cli: AdminCLI, _ name: String) throws -> [String: String] {
        try cli.show(name).config.filter { !$0.key.hasPrefix("volatile.") }
    }

    @Test func createsListedInstances() throws {
        let cli = try AdminCLI()
        let initProcess = try RunningCommand.sleeping()

        let printed = try apply(
            cli,
            """
            {"instances":[
              {"name":"vm1","type":"virtual-machine","pid":\(initProcess.pid),"root_uid":1000,
               "config":{"user.a":"1"},"devices":{"eth0":{"type":"nic","network":"br0"}}},
              {"name":"c2","cgroup":"/guestapi-test/c2"}]}
            """)

        #expect(printed == "created 2, updated 0, deleted 0, unchanged 0\n")
        let vm = try cli.show("vm1")
        #expect(vm.type == "virtual-machine" && vm.rootUID == 1000)
        #expect(vm.pid == Int(initProcess.pid))
        #expect(vm.config["user.a"] == "1" && vm.config["volatile.eth0.hwaddr"] != nil)
        #expect(vm.devices == ["eth0": ["type": "nic", "network": "br0"]])
        #expect(try cli.show("c2").cgroup == "/guestapi-test/c2")
    }

    @Test func updatesToExactlyTheFileAndJournalsEachChange() throws {
        let cli = try AdminCLI()
        try apply(
            cli,
            """
            {"instances":[{"name":"c1","config":{"user.a":"1","user.b":"2"},
              "devices":{"d1":{"type":"disk","path":"/a"},"d2":{"type":"disk","path":"/b"}}}]}
            """)
        let before = try cli.journal().last?.id ?? 0

        let printed = try apply(
            cli,
            """
            {"instances":[{"name":"c1","config":{"user.a":"10","user.c":"3"},
              "devices":{"d2":{"type":"disk","path":"/c"}}}]}
            """)

        #expect(printed == "created 0, updated 1, deleted 0, unchanged 0\n")
        #expect(try userConfig(cli, "c1") == ["user.a": "10", "user.c": "3"])
        #expect(try cli.show("c1").devices == ["d2": ["type": "disk", "path": "/c"]])
        let changes = try cli.journal("--since", String(before)).map(\.metadata)
        #expect(changes.count == 5)
        #expect(changes.contains(["key": "user.b", "old_value": "2", "value": ""]))
        #expect(changes.contains(["key": "user.a", "old_value": "1", "value": "10"]))
        #expect(changes.contains(["key": "user.c", "old_value": "", "value": "3"]))
        #expect(changes.contains(["action": "removed", "config": ["type": "disk", "path": "/a"], "name": "d1"]))
        #expect(changes.contains(["action": "updated", "config": ["type": "disk", "path": "/c"], "name": "d2"]))
    }

    @Test func unlistedInstancesStayUnlessPrune() throws {
        let cli = try AdminCLI()
        let desired = #"{"instances":[{"name":"c1","config":{"user.a":"1"}}]}"#
        try apply(cli, desired)
        try cli.succeed("instance", "create", "other")

        try apply(cli, desired)
        #expect(try cli.json([ShownInstance].self, "instance", "list").map(\.name) == ["c1", "other"])

        #expect(try apply(cli, desired, "--prune") == "created 0, updated 0, deleted 1, unchanged 1\n")
        #expect(try cli.json([ShownInstance].self, "instance", "list").map(\.name) == ["c1"])
        #expect(try cli.journal().last?.metadata == ["action": "instance-deleted"])
    }

    @Test func applyingTheSameFileTwiceChangesNothing() throws {
        let cli = try AdminCLI()
        let initProcess = try RunningCommand.sleeping()
        let desired = """
            {"instances":[
              {"name":"c1","pid":\(initProcess.pid),"config":{"user.a":"1","cloud-init.user-data":"#cloud-config"},
               "devices":{"eth0":{"type":"nic"},"d1":{"type":"disk","path":"/a"}}},
              {"name":"c2","cgroup":"/guestapi-test/c2/","root_uid":1000}]}
            """
        try apply(cli, desired)
        let before = try cli.snapshot()

        let printed = try cli.succeed("apply", "-", stdin: Array(desired.utf8))

        #expect(printed == "created 0, updated 0, deleted 0, unchanged 2\n")
        #expect(try cli.snapshot() == before)
    }
}
