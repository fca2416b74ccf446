import Foundation
import Testing

/// cloud-init's own LXD datasource (Debian package cloud-init, DataSourceLXD.py), a client
/// nobody here wrote, reads meta-data, user-data, vendor-data, network-config, config keys and
/// devices from guestapid. tools/cloud_init_check.py runs cloud-init's code as shipped (only the
/// socket path changed) inside a guest process, prints what it read and checks expectations.
@Suite(.enabled(if: CloudInit.available, CloudInit.unavailableReason), .timeLimit(.minutes(3)))
struct CloudInitTests {
    /// ASCII values only: cloud-init keeps `response.text`, and for `application/octet-stream`
    /// (what Incus sends for raw values, and guestapid too) requests guesses the charset, which
    /// can turn a short UTF-8 value into mojibake ("héllo" read as "h√©llo"), with Incus just the same.
    @Test func dataSourceLXDReadsEverything() throws {
        let state = try TemporaryState()
        let guest = try GuestProcess()
        let userData = """
            #cloud-config
            hostname: c1
            runcmd:
              - [echo, "hello from guestapi"]

            """
        let vendorData = "#cloud-config\nbootcmd:\n  - echo vendor\n"
        let networkConfig = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n"
        let metaData = "availability-zone: zone-a\npublic-keys:\n  - ssh-ed25519 AAAA test@guestapi\n"
        try admin(
            state, "instance", "create", "c1", "--pid", String(guest.shellPID), "--root-uid", String(getuid()),
            "--config", "cloud-init.user-data=" + userData,
            "--config", "cloud-init.vendor-data=" + vendorData,
            "--config", "cloud-init.network-config=" + networkConfig,
            "--config", "user.meta-data=" + metaData,
            "--config", "user.foo=bar",
            "--config", "limits.cpu=2")
        try admin(state, "device", "add", "eth0", "nic", "nictype=bridged", "parent=incusbr0", "name=eth0")
        try admin(state, "device", "add", "root", "disk", "path=/", "pool=default")
        let instanceID = try admin(state, "get", "volatile.cloud-init.instance-id")
        let hwaddr = try admin(state, "get", "volatile.eth0.hwaddr")
        #expect(!instanceID.isEmpty && !hwaddr.isEmpty)
        let files = try CloudInit.files(
            in: state,
            [
                "user-data": userData, "vendor-data": vendorData,
                "network-config": networkConfig,
            ])
        let daemon = try Daemon(state: state)

        let result = try CloudInit.check(
            in: guest, socket: daemon.socket,
            [
                "--instance-id", instanceID, "--hostname", "c1",
                "--user-data-file", files["user-data"]!, "--vendor-data-file", files["vendor-data"]!,
                "--network-config-file", files["network-config"]!,
                "--meta", "availability-zone=zone-a", "--config", "user.foo=bar", "--absent-config", "limits.cpu",
                "--device", "eth0:type=nic", "--device", "eth0:parent=incusbr0", "--device", "eth0:hwaddr=" + hwaddr,
                "--device", "root:type=disk", "--device", "root:path=/", "--devices", "2",
                "--cloud-config", "hostname=c1",
            ])
        // Beyond the script's own checks: what cloud-init asked for, and what it persisted.
        let requests = result["read_metadata_requests"]?.array?.compactMap(\.string) ?? []
        #expect(
            requests
                == [
                    "/1.0/meta-data", "/1.0/config",
                    "/1.0/config/cloud-init.network-config", "/1.0/config/cloud-init.user-data",
                    "/1.0/config/cloud-init.vendor-data", "/1.0/config/user.foo", "/1.0/config/user.meta-data",
                    "/1.0/devices",
                ].map { "[HTTP:200] http://lxd" + $0 })
        let source = try #require(result["datasource"])
        #expect(source["instance_data_v1"]?["platform"] == "lxd")
        #expect(source["instance_data_v1"]?["instance_id"]?.string == instanceID)
        #expect(source["metadata"]?["public-keys"] == ["ssh-ed25519 AAAA test@guestapi"])
        #expect(result["warnings"] == [])
    }

    /// Old-LXD fallback keys (user.user-data, user.vendor-data) are promoted too, and a new
    /// user-data makes a new instance-id, which is how cloud-init knows to run again.
    @Test func userKeysAndANewInstanceID() throws {
        let state = try TemporaryState()
        let guest = try GuestProcess()
        try admin(
            state, "instance", "create", "c1", "--pid", String(guest.shellPID), "--root-uid", String(getuid()),
            "--config", "user.user-data=#cloud-config\nhostname: first\n",
            "--config", "user.vendor-data=#cloud-config\n{}\n")
        try admin(state, "device", "add", "eth0", "nic", "nictype=bridged", "parent=incusbr0")
        let daemon = try Daemon(state: state)
        let first = try admin(state, "get", "volatile.cloud-init.instance-id")
        var files = try CloudInit.files(
            in: state,
            [
                "user-data": "#cloud-config\nhostname: first\n",
                "vendor-data": "#cloud-config\n{}\n",
            ])
        try CloudInit.check(
            in: guest, socket: daemon.socket,
            [
                "--instance-id", first, "--hostname", "c1", "--user-data-file", files["user-data"]!,
                "--vendor-data-file", files["vendor-data"]!, "--cloud-config", "hostname=first", "--devices", "1",
            ])

        // Changed while the daemon runs: the next read sees it.
        try admin(state, "set", "user.user-data", "#cloud-config\nhostname: second\n")
        let second = try admin(state, "get", "volatile.cloud-init.instance-id")
        #expect(second != first)
        files = try CloudInit.files(in: state, ["user-data": "#cloud-config\nhostname: second\n"])
        try CloudInit.check(
            in: guest, socket: daemon.socket,
            [
                "--instance-id", second, "--user-data-file", files["user-data"]!, "--cloud-config", "hostname=second",
            ])
    }

    /// `guestapi-admin ARGUMENTS --state-dir STATE`, which must succeed; its output without the final newline.
    @discardableResult
    private func admin(_ state: TemporaryState, _ arguments: String...) throws -> String {
        let result = try Command(Binaries.admin, arguments + state.arguments).run().requireSuccess()
        var text = result.stdoutText
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}

enum CloudInit {
    static let python = "/usr/bin/python3"

    /// tools/cloud_init_check.py, found from this file's place in the repository.
    static let script: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // CloudInitTests.swift, IntegrationTests, Tests
        return url.appendingPathComponent("tools/cloud_init_check.py").path
    }()

    /// Whether Debian's python can import cloud-init's LXD datasource.
    static let available: Bool = {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        let result = try? Command(python, ["-c", "import cloudinit.sources.DataSourceLXD"]).run()
        return result?.status == 0
    }()

    static let unavailableReason: Comment =
        "cloud-init's LXD datasource is not importable by /usr/bin/python3 (install the Debian package cloud-init)"

    /// Writes each value to a file in the state folder (the script compares exact bytes); name → path.
    static func files(in state: TemporaryState, _ contents: [String: String]) throws -> [String: String] {
        var paths: [String: String] = [:]
        for (name, text) in contents {
            let path = state.directory + "/expected-" + name
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            paths[name] = path
        }
        return paths
    }

    /// Runs the check inside `guest` (so guestapid resolves it to the guest's instance); it must
    /// pass. Returns the JSON document it printed.
    @discardableResult
    static func check(
        in guest: GuestProcess, socket: String, _ expectations: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> JSONValue {
        let command = ([python, script, socket] + expectations)
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let output = try guest.run(command, timeout: 60)
        try #require(
            output.status == 0, "cloud_init_check.py exited \(output.status):\n\(output.stderr)\n\(output.text)",
            sourceLocation: sourceLocation)
        return try JSONValue.parse(output.stdout)
    }
}
