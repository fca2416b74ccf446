import Foundation
@testable import GuestStore
import Testing

/// A runtime's hook speaks for one container: it starts, re-attaches and stops only the
/// instance that container registered (README, "Runtime hooks: who may name what").
@Suite("hooks and the containers instances belong to")
struct HookOwnershipTests {
    let runc = try! RuntimeContainer(.oci, id: "r1")
    let other = try! RuntimeContainer(.oci, id: "r2")

    func start(_ store: Store, _ name: String, _ container: RuntimeContainer, identity: InstanceIdentity = .init(),
               config: [String: [UInt8]] = [:], dropped: UnsafeMutablePointer<Bool>? = nil) throws -> Store.HookOutcome {
        var droppedCgroup = false
        defer { dropped?.pointee = droppedCgroup }
        return try store.startInstance(name: name, container: container, identity: identity, config: config, devices: [:],
                                       droppedCgroup: &droppedCgroup)
    }

    func refusals(_ store: Store) throws -> [String] {
        try store.journal(JournalQuery(kinds: [.lifecycle])).filter { $0.action == "hook-refused" }.map { "\($0.instance) \($0.name ?? "")" }
    }

    @Test func theContainerThatRegisteredAnInstanceStartsAndStopsIt() throws {
        let store = try TemporaryDirectory().store()
        guard case .started(let made, created: true) = try start(store, "web", runc, config: ["user.a": Array("1".utf8)]) else {
            Issue.record("not created"); return
        }
        #expect(made.container == runc)
        #expect(try store.stopInstance(name: "web", container: runc) == .stopped(changed: true))
        try store.setConfig(instance: "web", key: "user.host", value: Array("host".utf8))
        try store.unsetConfig(instance: "web", key: "user.a")
        // A restart: annotations count only when the instance is made.
        guard case .started(let again, created: false) = try start(store, "web", runc, config: ["user.a": Array("2".utf8)]) else {
            Issue.record("not started again"); return
        }
        #expect(again.id == made.id && !again.stopped)
        #expect(try store.config(instanceID: made.id).map(\.key) == ["user.host", "volatile.cloud-init.instance-id"])
        #expect(try refusals(store).isEmpty)
    }

    @Test func anotherContainerIsRefusedAndChangesNothingButTheJournal() throws {
        let store = try TemporaryDirectory().store()
        _ = try start(store, "web", runc, identity: InstanceIdentity(initPID: 100, initStartTime: 5, cgroup: "/r1"))
        let before = try store.instance(named: "web")
        #expect(try start(store, "web", other, identity: InstanceIdentity(initPID: 200, initStartTime: 6), config: ["user.x": [1]])
            == .refused(holder: runc))
        #expect(try store.stopInstance(name: "web", container: other) == .refused(holder: runc))
        #expect(try store.instance(named: "web") == before)
        #expect(try store.config(instanceID: before.id).map(\.key) == ["volatile.cloud-init.instance-id"])
        #expect(try refusals(store) == ["web oci:r2", "web oci:r2"])
    }

    @Test func theHostsInstanceIsNoContainersUntilHandedOver() throws {
        let store = try TemporaryDirectory().store()
        _ = try store.createInstance(name: "web")
        #expect(try start(store, "web", runc) == .refused(holder: nil))
        _ = try store.attachInstance(name: "web", identity: InstanceIdentity(), owner: .container(runc))
        guard case .started(let started, created: false) = try start(store, "web", runc) else { Issue.record("refused"); return }
        #expect(started.container == runc)
    }

    /// A cgroup another running instance holds is left out, not a reason to refuse.
    @Test func aCgroupAnotherInstanceHoldsIsNotRecorded() throws {
        let store = try TemporaryDirectory().store()
        _ = try store.createInstance(name: "first", identity: InstanceIdentity(cgroup: "/shared"))
        var dropped = false
        guard case .started(let second, created: true) = try start(store, "second", runc, identity: InstanceIdentity(cgroup: "/shared"),
                                                                 dropped: &dropped) else { Issue.record("refused"); return }
        #expect(dropped && second.identity.cgroup == nil)
        #expect(try store.instance(named: "first").identity.cgroup == "/shared")
    }

    /// Instances earlier hooks registered are bound to their container where the registration
    /// shows it (v0006); the others behave as the host's.
    @Test func aDatabaseFromBeforeBindsWhatItCan() throws {
        let folder = try TemporaryDirectory()
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/released-v0005.db").path
        try FileManager.default.copyItem(atPath: fixture, toPath: folder.file("guestapi.db"))
        let store = try folder.store()
        let owners = Dictionary(uniqueKeysWithValues: try store.instances().map { ($0.name, $0.container?.description ?? "host") })
        let podman = String(repeating: "c", count: 64), crio = String(repeating: "d", count: 64)
        #expect(owners == [
            "web": "host", "lxc1": "lxc:/var/lib/lxc/lxc1", "r1": "oci:r1", podman: "oci:" + podman, crio: "oci:" + crio,
            "annotated": "host", "nspawn": "host", "a": "host",
        ])
        #expect(try store.configValue(instanceID: try store.instance(named: "r1").id, key: "user.b") == Array("2".utf8))
    }
}
