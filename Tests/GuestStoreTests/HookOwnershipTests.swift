import Foundation
import Testing

@testable import GuestStore

/// A runtime's hook speaks for one container: it starts, re-attaches and stops only the
/// instance that container registered (README, "Runtime hooks: who may name what").
@Suite("hooks and the containers instances belong to")
struct HookOwnershipTests {
    let runc = try! RuntimeContainer(.oci, id: "r1")
    let other = try! RuntimeContainer(.oci, id: "r2")

    func start(
        _ store: Store, _ name: String, _ container: RuntimeContainer, identity: InstanceIdentity = .init(),
        config: [String: [UInt8]] = [:]
    ) throws -> Store.HookOutcome {
        try store.startInstance(name: name, container: container, identity: identity, config: config, devices: [:])
    }

    func refusals(_ store: Store) throws -> [String] {
        try store.journal(JournalQuery(kinds: [.lifecycle])).filter { $0.action == "hook-refused" }.map {
            "\($0.instance) \($0.name ?? "")"
        }
    }

    @Test func theContainerThatRegisteredAnInstanceStartsAndStopsIt() throws {
        let store = try TemporaryDirectory().store()
        guard case .started(let made, droppedCgroup: false) = try start(store, "web", runc, config: ["user.a": Array("1".utf8)]) else {
            Issue.record("not created")
            return
        }
        #expect(made.container == runc)
        #expect(try store.stopInstance(name: "web", container: runc) == .stopped)
        #expect(try store.instance(named: "web").stopped)
        try store.setConfig(instance: "web", key: "user.host", value: Array("host".utf8))
        try store.unsetConfig(instance: "web", key: "user.a")
        // A restart: annotations count only when the instance is made.
        guard case .started(let again, droppedCgroup: false) = try start(store, "web", runc, config: ["user.a": Array("2".utf8)]) else {
            Issue.record("not started again")
            return
        }
        #expect(again.id == made.id && !again.stopped)
        #expect(try store.config(instanceID: made.id).map(\.key) == ["user.host", "volatile.cloud-init.instance-id"])
        #expect(try refusals(store).isEmpty)
    }

    @Test func anotherContainerIsRefusedAndChangesNothingButTheJournal() throws {
        let store = try TemporaryDirectory().store()
        _ = try start(store, "web", runc, identity: InstanceIdentity(initPID: 100, initStartTime: 5, cgroup: "/r1"))
        let before = try store.instance(named: "web")
        #expect(
            try start(store, "web", other, identity: InstanceIdentity(initPID: 200, initStartTime: 6), config: ["user.x": [1]])
                == .refused(holder: runc))
        #expect(try store.stopInstance(name: "web", container: other) == .refused(holder: runc))
        #expect(try store.instance(named: "web") == before)
        #expect(try store.config(instanceID: before.id).map(\.key) == ["volatile.cloud-init.instance-id"])
        #expect(try refusals(store) == ["web oci:r2", "web oci:r2"])
    }

    /// A container's stop finds its instances by the container, whatever the name it gives now
    /// (podman's name may have changed); a container with none is refused on another's.
    @Test func aStopFindsTheContainersInstance() throws {
        let store = try TemporaryDirectory().store()
        _ = try start(store, "web", runc)
        _ = try start(store, "other", other)
        #expect(try store.stopInstance(name: "renamed", container: runc) == .stopped)
        #expect(try store.instance(named: "web").stopped)
        let stranger = try RuntimeContainer(.oci, id: "r3")
        #expect(try store.stopInstance(name: "other", container: stranger) == .refused(holder: other))
        #expect(try !store.instance(named: "other").stopped)
    }

    /// `apply` keeps who an instance belongs to unless the file says: a string hands it over,
    /// null gives it back to the host.
    @Test func applySaysWhoAnInstanceBelongsToOnlyWhenItSaysSo() throws {
        let store = try TemporaryDirectory().store()
        _ = try start(store, "web", runc)
        func apply(_ json: String) throws -> RuntimeContainer? {
            _ = try store.apply(try DesiredState(json: Array(json.utf8)), identities: [:], prune: false)
            return try store.instance(named: "web").container
        }
        #expect(try apply(#"{"name": "web"}"#) == runc)
        #expect(try apply(#"{"name": "web", "container": "oci:r2"}"#) == other)
        #expect(try apply(#"{"name": "web", "container": null}"#) == nil)
    }

    @Test func theHostsInstanceIsNoContainersUntilHandedOver() throws {
        let store = try TemporaryDirectory().store()
        _ = try store.createInstance(name: "web")
        #expect(try start(store, "web", runc) == .refused(holder: nil))
        _ = try store.attachInstance(name: "web", identity: InstanceIdentity(), owner: .container(runc))
        guard case .started(let started, _) = try start(store, "web", runc) else {
            Issue.record("refused")
            return
        }
        #expect(started.container == runc)
    }

    /// A namespace whose registered init is gone (killed, no poststop) is let go of for the new
    /// one that got its number, and its instance is stopped: not left standing with a cgroup
    /// and no namespace, for anyone in that cgroup to be.
    @Test func aNamespaceTakenFromADeadInitStopsItsInstance() throws {
        let store = try TemporaryDirectory().store()
        store.initIsRunning = { _, _, _ in false }
        _ = try start(store, "a", runc, identity: InstanceIdentity(initPID: 100, initStartTime: 1, pidNamespaceInode: 42, cgroup: "/a"))
        _ = try start(store, "b", other, identity: InstanceIdentity(initPID: 200, initStartTime: 2, pidNamespaceInode: 42))
        let a = try store.instance(named: "a")
        #expect(a.stopped && a.identity.pidNamespaceInode == nil)
        #expect(try store.instance(named: "b").identity.pidNamespaceInode == 42)
    }

    /// A cgroup another running instance holds is left out, not a reason to refuse.
    @Test func aCgroupAnotherInstanceHoldsIsNotRecorded() throws {
        let store = try TemporaryDirectory().store()
        _ = try store.createInstance(name: "first", identity: InstanceIdentity(cgroup: "/shared"))
        guard
            case .started(let second, droppedCgroup: true) = try start(store, "second", runc, identity: InstanceIdentity(cgroup: "/shared"))
        else {
            Issue.record("refused, or the cgroup recorded")
            return
        }
        #expect(second.identity.cgroup == nil)
        #expect(try store.instance(named: "first").identity.cgroup == "/shared")
    }

    /// Instances earlier hooks registered are bound to their container where the registration
    /// can only have been a hook's (v0006); the others, host-made ones whose cgroup merely
    /// ends with their name among them, behave as the host's.
    @Test func aDatabaseFromBeforeBindsWhatItCan() throws {
        let folder = try TemporaryDirectory()
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/released-v0005.db").path
        try FileManager.default.copyItem(atPath: fixture, toPath: folder.file("guestapi.db"))
        let store = try folder.store()
        let owners = Dictionary(uniqueKeysWithValues: try store.instances().map { ($0.name, $0.container?.description ?? "host") })
        let podman = String(repeating: "c", count: 64)
        let crio = String(repeating: "d", count: 64)
        #expect(
            owners == [
                "web": "host", "lxc1": "lxc:/var/lib/lxc/lxc1", "r1": "host", podman: "oci:" + podman, crio: "oci:" + crio,
                "annotated": "host", "nspawn": "host", "a": "host", "backup": "host", "1": "host", "lxc3": "host",
                String(repeating: "e", count: 64): "host",
            ])
        #expect(try store.configValue(instanceID: try store.instance(named: "r1").id, key: "user.b") == Array("2".utf8))
    }
}
