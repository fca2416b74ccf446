import Foundation
import Testing

/// Real containers (README, "Admin CLI"`guestapi-admin hook`): LXC and runc register their
/// containers through the hooks the README documents, with no hand registration; processes
/// entered into them (`lxc-attach`, `runc exec`) are the instance; stopping and starting keep
/// config and replay.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ContainerRuntimeTests {
    /// A daemon on a fresh state, and its CLI.
    final class Stage {
        let cli: AdminCLI
        let daemon: Daemon

        init() throws {
            cli = try AdminCLI()
            daemon = try Daemon(state: cli.state)
        }

        var state: TemporaryState { cli.state }
    }

    /// Everything a guest does, from processes entered into `container` (registered by its
    /// hook as instance `container.name`, with `user.foo=bar` and a nic `eth0`).
    func exercise(_ container: Container, _ stage: Stage) throws {
        let name = container.name
        let cli = stage.cli
        #expect(try cli.show(name).state == "Started")
        #expect(try cli.show(name).pidnsInode != nil, "the hook recorded the container's PID namespace")

        #expect(try container.answer("/1.0").text.contains(#""state":"Started""#))
        #expect(try container.answer("/1.0/config/user.foo") == .raw("bar"))
        #expect(try container.answer("/1.0/devices").text.contains(#""eth0":{"hwaddr":"#))
        #expect(try container.answer("/1.0/meta-data").text.contains("local-hostname: \(name)\n"))
        #expect(try container.answer("/1.0", "-X PATCH --data '{\"state\":\"Ready\"}'").status == 200)
        #expect(try cli.show(name).state == "Ready")

        // A change on the host reaches a stream inside.
        _ = try container.run(
            "curl -sN -D /tmp/head --unix-socket /dev/incus/sock 'http://guest/1.0/events?since=now' > /tmp/events 2>&1 &")
        try Self.waitForFile(container.file("/tmp/head"), containing: "200 OK")  // the stream is open
        try cli.succeed("set", "user.foo", "baz", "--instance", name)
        let changed = Date()
        try Self.waitForFile(container.file("/tmp/events"), containing: "baz", every: .milliseconds(1))
        let latency = Date().timeIntervalSince(changed) * 1000
        print("\(type(of: container)): the change reached the stream inside \(Int(latency)) ms after the CLI exited")
        #expect(latency < 1000)
        let lastSeen = try #require(try cli.journal("--instance", name).last?.id)

        // Stopped: Stopped on the host, config kept; a change meanwhile is replayed after the restart.
        try container.stop()
        #expect(try cli.show(name).state == "Stopped")
        try cli.succeed("set", "user.foo", "while-stopped", "--instance", name)
        try container.start()
        #expect(try cli.show(name).state == "Started", "Ready is cleared by a stop")
        #expect(try container.answer("/1.0/config/user.foo") == .raw("while-stopped"))
        #expect(try container.answer("/1.0").text.contains(#""state":"Started""#))
        let replay = try container.run("curl -sN --max-time 1 --unix-socket /dev/incus/sock 'http://guest/1.0/events?since=\(lastSeen)'")
        #expect(replay.stdoutText.contains(#""value":"while-stopped""#), "\(replay.stdoutText)")
        let lifecycle = try cli.journal("--instance", name, "--type", "lifecycle").compactMap(\.action)
        #expect(lifecycle.suffix(3) == ["instance-stopped", "instance-attached", "instance-started"], "\(lifecycle)")
    }

    /// What `exercise` expects from annotations: user.foo=bar and a nic eth0.
    static let fooAndNic = [
        "org.linuxcontainers.guestapi.config.user.foo": "bar",
        "org.linuxcontainers.guestapi.device.eth0.type": "nic",
    ]

    @Test(.enabled(if: Runtimes.runcAvailable, Runtimes.runcMissing))
    func aRuncContainerRegisteredByItsHooks() throws {
        let stage = try Stage()
        let container = try RuncContainer(state: stage.state, annotations: Self.fooAndNic)
        try container.start()
        try exercise(container, stage)
    }

    @Test(.enabled(if: Runtimes.lxcAvailable, Runtimes.lxcMissing))
    func anLXCContainerRegisteredByItsHooks() throws {
        let stage = try Stage()
        let container = try LXCContainer(state: stage.state)
        try container.start()
        try stage.cli.succeed("set", "user.foo", "bar", "--instance", container.name)
        try stage.cli.succeed("device", "add", "eth0", "nic", "--instance", container.name)
        try exercise(container, stage)
    }

    /// podman with guestapi's hooks.d file: the same, podman's exec and stop and start.
    @Test(.enabled(if: Runtimes.podmanAvailable, Runtimes.podmanMissing))
    func aPodmanContainerRegisteredThroughHooksD() throws {
        let stage = try Stage()
        let container = try PodmanContainer(state: stage.state, annotations: Self.fooAndNic)
        try container.start()
        try exercise(container, stage)
    }

    /// Annotations give config when the container's instance is made, never on a restart:
    /// what the host set or removed since stands.
    @Test(.enabled(if: Runtimes.runcAvailable, Runtimes.runcMissing))
    func annotationsCountOnlyWhenTheInstanceIsMade() throws {
        let stage = try Stage()
        let container = try RuncContainer(
            state: stage.state,
            annotations: [
                "org.linuxcontainers.guestapi.instance": "named-by-annotation",
                "org.linuxcontainers.guestapi.config.user.a": "from-annotation",
                "org.linuxcontainers.guestapi.config.user.b": "from-annotation",
            ])
        try container.start()
        try stage.cli.succeed("set", "user.a", "from-host", "--instance", "named-by-annotation")
        try stage.cli.succeed("unset", "user.b", "--instance", "named-by-annotation")
        try container.stop()
        try container.start()

        #expect(try container.answer("/1.0/config/user.a") == .raw("from-host"))
        #expect(try container.answer("/1.0/config/user.b") == .notFound, "a key the host removed is not added again")
    }

    /// An LXC container and a runc container at once: neither sees the other's keys or events.
    @Test(.enabled(if: Runtimes.runcAvailable && Runtimes.lxcAvailable, "needs both runc and LXC"))
    func twoRuntimesAtOnceNeverMeet() throws {
        let stage = try Stage()
        let containers: [Container] = [try LXCContainer(state: stage.state), try RuncContainer(state: stage.state)]
        for container in containers {
            try container.start()
            try stage.cli.succeed("set", "user.secret", "SECRET-\(container.name)", "--instance", container.name)
            _ = try container.run("curl -sN --unix-socket /dev/incus/sock 'http://guest/1.0/events?since=0' > /tmp/events 2>&1 &")
        }
        for container in containers { try stage.cli.succeed("set", "user.live", "LIVE-\(container.name)", "--instance", container.name) }
        for container in containers { try Self.waitForFile(container.file("/tmp/events"), containing: "LIVE-\(container.name)") }

        for (index, container) in containers.enumerated() {
            let other = containers[1 - index].name
            var seen = try ["/1.0/config", "/1.0/config/user.secret", "/1.0/meta-data"].map { try container.answer($0).text }
            seen.append((try? String(contentsOfFile: container.file("/tmp/events"), encoding: .utf8)) ?? "")
            #expect(seen[1] == "SECRET-\(container.name)")
            #expect(seen[3].contains("LIVE-\(container.name)"))
            for text in seen { #expect(!text.contains(other), "\(container.name) saw \(other): \(text)") }
        }
    }

    /// cloud-init's own LXD datasource, run inside a real container, reads it all.
    @Test(.enabled(if: Runtimes.runcAvailable && CloudInit.available, "needs runc and Debian's cloud-init"))
    func cloudInitInsideARuncContainer() throws {
        let stage = try Stage()
        let tools = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../tools").standardized.path
        let container = try RuncContainer(
            state: stage.state,
            annotations: [
                "org.linuxcontainers.guestapi.config.user.foo": "bar",
                "org.linuxcontainers.guestapi.config.cloud-init.user-data": "#cloud-config\nhostname: inside\n",
                "org.linuxcontainers.guestapi.config.user.meta-data": "availability-zone: zone-a\n",
            ], extraMounts: [(tools, "/opt/tools")])
        try container.start()
        let instanceID = try stage.cli.succeed("get", "volatile.cloud-init.instance-id", "--instance", container.name)

        let result = try container.run(
            "/usr/bin/python3 /opt/tools/cloud_init_check.py /dev/incus/sock --quiet"
                + " --instance-id \(instanceID.dropLast()) --hostname \(container.name) --config user.foo=bar"
                + " --meta availability-zone=zone-a --cloud-config hostname=inside", timeout: .seconds(60))

        #expect(result.status == 0, "\(result.stdoutText) \(result.stderr)")
    }
}

extension ContainerRuntimeTests {
    /// Waits until the file at `path` holds `text` (10 s at most).
    static func waitForFile(_ path: String, containing text: String, every interval: Duration = .milliseconds(10)) throws {
        let deadline = Date().addingTimeInterval(10)
        func holds() -> Bool { ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains(text) }
        while !holds() && Date() < deadline { usleep(UInt32(interval.timeInterval * 1_000_000)) }
        try #require(holds(), "\(path) does not hold \(text) after 10 s")
    }
}
