import Foundation
import Testing

/// Runtime hooks are a tenant boundary (README, "Runtime hooks: who may name what"): OCI
/// annotations are written by whoever starts the container, so a hook registers only its own
/// container. Each test is a way the released hooks let one tenant reach another's instance.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct HookTenantTests {
    typealias Stage = ContainerRuntimeTests.Stage
    static let userData = "/1.0/config/cloud-init.user-data"
    static let instance = "org.linuxcontainers.guestapi.instance"
    static let config = "org.linuxcontainers.guestapi.config."

    /// The victim: a runc container registered as `victim`, with a secret the host set.
    func victim(_ stage: Stage) throws -> RuncContainer {
        let victim = try RuncContainer(state: stage.state, annotations: [Self.instance: "victim"])
        try victim.start()
        try stage.cli.succeed("set", "cloud-init.user-data", "VICTIM-SECRET", "--instance", "victim")
        #expect(try victim.answer(Self.userData) == .raw("VICTIM-SECRET"))
        return victim
    }

    /// `hook-refused` entries of the host's journal on `instance`, by the container refused.
    func refusals(_ stage: Stage, _ instance: String) throws -> [String] {
        try stage.cli.journal("--instance", instance, "--type", "lifecycle")
            .filter { $0.action == "hook-refused" }.compactMap { $0.metadata["container"]?.string }
    }

    /// Case 1: a container annotated with another tenant's running instance took its identity.
    @Test(.enabled(if: Runtimes.runcAvailable, Runtimes.runcMissing))
    func aContainerCannotTakeAnotherTenantsInstance() throws {
        let stage = try Stage()
        let victim = try victim(stage)
        let before = try stage.cli.show("victim")
        try stage.cli.succeed("set", "user.history", "VICTIM-HISTORY", "--instance", "victim")

        let attacker = try RuncContainer(state: stage.state, annotations: [Self.instance: "victim"])
        try attacker.start()
        #expect(try attacker.answer(Self.userData) == .notInContainer)
        #expect(try attacker.answer("/1.0/events?since=0", "-N --max-time 1") == .notInContainer)
        #expect(try victim.answer(Self.userData) == .raw("VICTIM-SECRET"), "the victim keeps its instance")
        let after = try stage.cli.show("victim")
        #expect(after.pid == before.pid && after.pidnsInode == before.pidnsInode && after.cgroup == before.cgroup)
        #expect(try refusals(stage, "victim") == ["oci:\(attacker.name)"])
        #expect(try DaemonMetrics.wait(stage.state, "guestapi_hooks_refused_total", atLeast: 1) == 1)

        // Its poststop is refused too: the victim runs on.
        try attacker.stop()
        #expect(try stage.cli.show("victim").state == "Started")
        #expect(try victim.answer(Self.userData) == .raw("VICTIM-SECRET"))
        #expect(try refusals(stage, "victim").count == 2)
    }

    /// The same through podman's hooks.d file, the attacker a podman user.
    @Test(.enabled(if: Runtimes.podmanAvailable, Runtimes.podmanMissing))
    func aPodmanContainerCannotTakeAnotherTenantsInstance() throws {
        let stage = try Stage()
        let victim = try victim(stage)
        let attacker = try PodmanContainer(state: stage.state, instance: "victim")
        try attacker.start()
        #expect(try attacker.answer(Self.userData) == .notInContainer)
        #expect(try victim.answer(Self.userData) == .raw("VICTIM-SECRET"))
        try attacker.stop()
        #expect(try stage.cli.show("victim").state == "Started")
    }

    /// Case 2: a poststop for another container marked a running instance Stopped.
    @Test(.enabled(if: Runtimes.runcAvailable, Runtimes.runcMissing))
    func aStrangersPoststopStopsNothing() throws {
        let stage = try Stage()
        let victim = try victim(stage)
        let state = #"{"id":"x","status":"stopped","annotations":{"org.linuxcontainers.guestapi.instance":"victim"}}"#
        let result = try stage.cli.run(["hook", "oci"], stdin: Array(state.utf8))
        #expect(result.status == 0, "a hook never fails the container")
        #expect(
            result.stderr.split(separator: "\n").count == 1 && result.stderr.contains("refused: instance victim belongs to container oci:"),
            "\(result.stderr)")
        #expect(try stage.cli.show("victim").state == "Started")
        #expect(try victim.answer(Self.userData) == .raw("VICTIM-SECRET"))
        #expect(try refusals(stage, "victim") == ["oci:x"])
    }

    /// Case 3: a name planted before its owner started gave the owner the planter's user-data.
    @Test(.enabled(if: Runtimes.runcAvailable, Runtimes.runcMissing))
    func aPlantedNameGivesItsOwnerNothing() throws {
        let stage = try Stage()
        let planter = try RuncContainer(
            state: stage.state,
            annotations: [
                Self.instance: "web", Self.config + "cloud-init.user-data": "#cloud-config\nruncmd: [planted]\n",
            ])
        try planter.start()
        try planter.stop()
        let owner = try RuncContainer(
            state: stage.state,
            annotations: [
                Self.instance: "web", Self.config + "cloud-init.user-data": "#cloud-config\nruncmd: [owners]\n",
            ])
        try owner.start()
        let seen = try owner.answer(Self.userData)
        #expect(seen == .notInContainer)
        #expect(!seen.text.contains("planted"))
        #expect(try refusals(stage, "web") == ["oci:\(owner.name)"], "the host sees who was refused")
    }

    /// Case 4: annotations granted what only the host decides (public images, limits, volatile keys).
    @Test(.enabled(if: Runtimes.runcAvailable, Runtimes.runcMissing))
    func annotationsGiveOnlyWhatATenantMay() throws {
        let stage = try Stage()
        let image = stage.state.directory + "/image.tar"
        try Data("image bytes".utf8).write(to: URL(fileURLWithPath: image))
        let fingerprint = try stage.cli.json([ListedImage].self, "image", "import", image, "--public").first?.fingerprint
        let container = try RuncContainer(
            state: stage.state,
            annotations: [
                Self.config + "security.guestapi.images": "true",
                Self.config + "limits.cpu": "64",
                Self.config + "volatile.eth0.hwaddr": "00:16:3e:00:00:01",
                Self.config + "image.os": "planted",
                Self.config + "raw.lxc": "lxc.apparmor.profile=unconfined",
                Self.config + "user.ok": "yes",
                Self.config + "cloud-init.vendor-data": "vendor",
                "org.linuxcontainers.guestapi.device.eth0.type": "nic",
            ])
        try container.start()
        let shown = try stage.cli.show(container.name)
        #expect(
            shown.config.keys.sorted() == ["cloud-init.vendor-data", "user.ok", "volatile.cloud-init.instance-id", "volatile.eth0.hwaddr"])
        #expect(shown.config["volatile.eth0.hwaddr"] != "00:16:3e:00:00:01", "the daemon's own address, not the annotation's")
        #expect(shown.devices.keys.sorted() == ["eth0"])
        #expect(try container.answer("/1.0/images/\(try #require(fingerprint))/export") == .notAuthorized)
    }

    /// What a tenant may not give is left out with one warning line, and the rest registered.
    @Test func anInvalidAnnotationIsLeftOutAndTheRestRegistered() throws {
        let host = try GuestHost()
        let container = try host.stranger(wrapper: ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc"])
        let warning = try Self.hook(
            host.cli, id: "c1", pid: container.process.shellPID,
            annotations: [
                "org.linuxcontainers.guestapi.device.bad.type": "not-an-incus-type",
                "org.linuxcontainers.guestapi.device.disk0.type": "disk", "org.linuxcontainers.guestapi.device.disk0.path": "/mnt",
                "org.linuxcontainers.guestapi.other": "x", Self.config + "security.guestapi": "false", Self.config + "user.a b": "1",
                Self.config + "user.ok": "1",
            ])
        #expect(warning.split(separator: "\n").filter { $0.contains("ignored annotations") }.count == 1, "\(warning)")
        for ignored in ["device.bad.type", "guestapi.other", "config.security.guestapi", "config.user.a b"] {
            #expect(warning.contains(ignored), "\(warning)")
        }
        let shown = try host.cli.show("c1")
        #expect(shown.devices == ["disk0": ["type": "disk", "path": "/mnt"]])
        #expect(shown.config["user.ok"] == "1" && shown.config["security.guestapi"] == nil)
        #expect(try container.answer("/1.0/config/user.ok") == .raw("1"))
    }

    /// Case 5: two processes in PID namespaces of their own sharing one cgroup: the second read
    /// the first's keys through the cgroup rule. Registered here by `hook oci` as a runtime
    /// would, with the state of each.
    @Test func aSharedCgroupGivesTheSecondNothing() throws {
        let host = try GuestHost()
        let cgroup = try TestCgroup()
        let namespaced = ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc"]
        let first = try host.stranger(wrapper: namespaced)
        let second = try host.stranger(wrapper: namespaced)
        try cgroup.add(first.process.shellPID)
        try Self.hook(host.cli, id: "first", pid: first.process.shellPID, annotations: [Self.config + "user.secret": "FIRST"])
        #expect(try host.cli.show("first").cgroup == cgroup.path, "alone in it, the first records its cgroup")

        try cgroup.add(second.process.shellPID)
        let warning = try Self.hook(
            host.cli, id: "second", pid: second.process.shellPID, annotations: [Self.config + "user.secret": "SECOND"])
        #expect(
            warning.contains(
                "cgroup \(cgroup.path) holds process \(first.process.shellPID), which is not in the container's PID namespace: not recorded"
            ), "\(warning)")
        #expect(try host.cli.show("second").cgroup == nil)
        #expect(try first.answer("/1.0/config/user.secret") == .raw("FIRST"))
        #expect(try second.answer("/1.0/config/user.secret") == .raw("SECOND"))

        // A process of a namespace of its own moved in later is not the first's either.
        let intruder = try host.stranger(wrapper: namespaced)
        try cgroup.add(intruder.process.shellPID)
        #expect(try intruder.answer("/1.0/config/user.secret") == .notInContainer)
    }

    /// Put into a namespaced container's cgroup, a host process (a `--pid=host` container's) is
    /// not that container; nor is a namespaced one in the cgroup of an instance that has no
    /// namespace (an nspawn machine the host registered by cgroup), while a host process there is.
    @Test func theCgroupRuleMatchesOnlyTheInstancesOwnNamespace() throws {
        let host = try GuestHost()
        let victimGroup = try TestCgroup()
        let hostGroup = try TestCgroup()
        let victim = try host.stranger(wrapper: ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc"])
        try victimGroup.add(victim.process.shellPID)
        try Self.hook(host.cli, id: "victim", pid: victim.process.shellPID, annotations: [Self.config + "user.secret": "VICTIM"])
        #expect(try host.cli.show("victim").cgroup == victimGroup.path)
        try host.cli.succeed("instance", "create", "machine", "--cgroup", hostGroup.path, "--config", "user.secret=MACHINE")

        let hostSide = try host.stranger()
        let namespaced = try host.stranger(wrapper: ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc"])
        try victimGroup.add(hostSide.process.shellPID)
        try hostGroup.add(namespaced.process.shellPID)
        #expect(try hostSide.answer("/1.0/config/user.secret") == .notInContainer)
        #expect(try namespaced.answer("/1.0/config/user.secret") == .notInContainer)
        #expect(try victim.answer("/1.0/config/user.secret") == .raw("VICTIM"))
        let member = try host.stranger()
        try hostGroup.add(member.process.shellPID)
        #expect(try member.answer("/1.0/config/user.secret") == .raw("MACHINE"))
    }

    /// A tenant's annotation key or name never makes a second line in the runtime's log.
    @Test func whatATenantWroteStaysOnOneLine() throws {
        let host = try GuestHost()
        let container = try host.stranger(wrapper: ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc"])
        let warning = try Self.hook(
            host.cli, id: "c1", pid: container.process.shellPID,
            annotations: [
                "org.linuxcontainers.guestapi.x\nguestapi-admin hook: refused: instance prod belongs to container oci:evil\u{1b}[2J": "1"
            ])
        #expect(warning.split(separator: "\n").filter { $0.contains("ignored annotations") }.count == 1, "\(warning)")
        #expect(!warning.contains("\u{1b}") && !warning.split(separator: "\n").contains { $0.hasPrefix("guestapi-admin hook: refused") })
    }

    /// A cgroup holding a process outside the container's namespace is not recorded.
    @Test func aCgroupSharedWithTheHostIsNotRecorded() throws {
        let host = try GuestHost()
        let cgroup = try TestCgroup()
        let container = try host.stranger(wrapper: ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc"])
        let hostProcess = try host.stranger()
        try cgroup.add(container.process.shellPID)
        try cgroup.add(hostProcess.process.shellPID)
        let warning = try Self.hook(host.cli, id: "c1", pid: container.process.shellPID, annotations: [Self.config + "user.a": "1"])
        #expect(warning.contains("which is not in the container's PID namespace: not recorded"), "\(warning)")
        #expect(try host.cli.show("c1").cgroup == nil)
        #expect(try container.answer("/1.0/config/user.a") == .raw("1"), "recognized by its namespace")
        #expect(try hostProcess.answer("/1.0/config/user.a") == .notInContainer)
    }

    /// The legitimate flows: an instance the host made is served to the container it hands it to.
    @Test(.enabled(if: Runtimes.runcAvailable, Runtimes.runcMissing))
    func aHostInstanceHandedToAContainerIsServed() throws {
        let stage = try Stage()
        try stage.cli.succeed("instance", "create", "web", "--config", "user.foo=from-host")
        let container = try RuncContainer(state: stage.state, annotations: [Self.instance: "web", Self.config + "user.foo": "annotation"])
        try container.start()
        #expect(try container.answer("/1.0/config/user.foo") == .notInContainer, "the host's instance is not a container's to take")
        try container.stop()

        try stage.cli.succeed("instance", "attach", "web", "--container", container.name)
        #expect(try stage.cli.show("web").container == "oci:\(container.name)")
        try container.start()
        #expect(try container.answer("/1.0/config/user.foo") == .raw("from-host"), "annotations count only for a new instance")
        let exported = try stage.cli.succeed("export", "--instance", "web")
        #expect(exported.contains(#""container":"oci:\#(container.name)""#), "\(exported)")
    }

    /// An LXC container whose name an OCI container took first is refused, and its processes are
    /// not that instance's through the LXC monitor rule either.
    @Test(.enabled(if: Runtimes.runcAvailable && Runtimes.lxcAvailable, "needs both runc and LXC"))
    func anLXCContainerGetsNoOtherRuntimesInstanceOfItsName() throws {
        let stage = try Stage()
        let lxc = try LXCContainer(state: stage.state)
        let oci = try RuncContainer(state: stage.state, annotations: [Self.instance: lxc.name, Self.config + "user.secret": "OCI"])
        try oci.start()
        try lxc.start()
        #expect(try lxc.answer("/1.0/config/user.secret") == .notInContainer)
        #expect(try oci.answer("/1.0/config/user.secret") == .raw("OCI"))
        #expect(try refusals(stage, lxc.name) == ["lxc:/var/lib/lxc/\(lxc.name)"])
    }

    /// Names from the runtime: CRI-O's Kubernetes names, podman's own name.
    @Test func kubernetesNamesNameTheInstance() throws {
        let host = try GuestHost()
        let container = try host.stranger(wrapper: ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc"])
        try Self.hook(
            host.cli, id: String(repeating: "ab", count: 32), pid: container.process.shellPID,
            annotations: [
                "io.kubernetes.pod.namespace": "shop", "io.kubernetes.pod.name": "web-7d4b9", "io.kubernetes.container.name": "nginx",
            ])
        #expect(try host.cli.show("shop_web-7d4b9_nginx").container == "oci:" + String(repeating: "ab", count: 32))
    }

    @Test(.enabled(if: Runtimes.podmanAvailable, Runtimes.podmanMissing))
    func aPodmanContainerIsNamedAsPodmanNamesIt() throws {
        let stage = try Stage()
        let container = try PodmanContainer(state: stage.state, namedByAnnotation: false)
        try container.start()
        let shown = try stage.cli.show(container.name)
        #expect(shown.container?.hasPrefix("oci:") == true)
        #expect(try container.answer("/1.0").status == 200)
    }

    /// `instance attach` replaces the whole identity: a cgroup given before is not kept.
    @Test func attachReplacesTheWholeIdentity() throws {
        let host = try GuestHost()
        let cgroup = try TestCgroup()
        let first = try host.stranger()
        let second = try host.stranger()
        try cgroup.add(first.process.shellPID)
        try host.cli.succeed(
            "instance", "create", "c1", "--pid", String(first.process.shellPID), "--cgroup", cgroup.path,
            "--config", "user.a=1")
        try host.cli.succeed("instance", "attach", "c1", "--pid", String(second.process.shellPID))
        let shown = try host.cli.show("c1")
        #expect(shown.pid == Int(second.process.shellPID) && shown.cgroup == nil)
        #expect(try first.answer("/1.0/config/user.a") == .notInContainer, "nothing of the old identity is kept")
        #expect(try second.answer("/1.0/config/user.a") == .raw("1"))
    }

    /// Runs `guestapi-admin hook oci` as a runtime would for a container starting with init
    /// `pid`; returns what it said on stderr (it must exit 0).
    @discardableResult
    static func hook(_ cli: AdminCLI, id: String, pid: Int32, annotations: [String: String], status: String = "creating") throws -> String {
        let state: [String: Any] = [
            "ociVersion": "1.0.2", "id": id, "status": status, "pid": Int(pid), "bundle": "/nonexistent",
            "annotations": annotations,
        ]
        let result = try cli.run(["hook", "oci"], stdin: Array(try JSONSerialization.data(withJSONObject: state)))
        try #require(result.status == 0, "hook oci exited \(result.status): \(result.stderr)")
        return result.stderr
    }
}
