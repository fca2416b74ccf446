import Testing

@Suite("guestapi-admin device", .timeLimit(.minutes(3)))
struct AdminDeviceTests {
    @Test func addSetRemoveAreJournaledWithTheirConfig() throws {
        let cli = try AdminCLI.populated()
        let start = try cli.journal().last?.id ?? 0

        try cli.succeed("device", "add", "mnt", "disk", "path=/mnt", "source=/srv")
        try cli.succeed("device", "set", "mnt", "readonly=true")
        try cli.succeed("device", "set", "mnt", "source=")  // an empty value removes the key
        try cli.succeed("device", "remove", "mnt")

        let metadata = try cli.journal("--since", String(start)).map(\.metadata)
        #expect(
            metadata == [
                ["action": "added", "config": ["path": "/mnt", "source": "/srv", "type": "disk"], "name": "mnt"],
                ["action": "updated", "config": ["path": "/mnt", "readonly": "true", "source": "/srv", "type": "disk"], "name": "mnt"],
                ["action": "updated", "config": ["path": "/mnt", "readonly": "true", "type": "disk"], "name": "mnt"],
                ["action": "removed", "config": ["path": "/mnt", "readonly": "true", "type": "disk"], "name": "mnt"],
            ])
    }

    @Test func listShowsEveryDeviceWithItsConfig() throws {
        let cli = try AdminCLI.populated()
        try cli.succeed("device", "add", "eth0", "nic", "hwaddr=00:16:3e:00:00:01", "network=br0")

        let devices = try cli.json([String: [String: String]].self, "device", "list")
        #expect(
            devices == [
                "d1": ["type": "disk", "path": "/mnt"],
                "eth0": ["type": "nic", "hwaddr": "00:16:3e:00:00:01", "network": "br0"],
            ])
        let table = try cli.succeed("device", "list").split(separator: "\n")
        try #require(table.count == 3, "\(table)")
        #expect(table[0].hasPrefix("NAME"))
        #expect(table[2].hasPrefix("eth0") && table[2].contains("network=br0"))
    }

    @Test func settingTheSameConfigAgainChangesNothing() throws {
        let cli = try AdminCLI.populated()
        let before = try cli.snapshot()

        try cli.succeed("device", "set", "d1", "path=/mnt")

        #expect(try cli.snapshot() == before)
    }
}
