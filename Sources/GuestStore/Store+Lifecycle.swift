/// Containers starting and stopping, as a runtime's hooks report them (`guestapi-admin hook`).
///
/// A hook speaks for one container, and its input is partly the tenant's (OCI annotations are
/// written by whoever starts the container): it may start, re-attach and stop only an
/// instance that container registered. A name the host holds, or another container, is
/// refused, and the refusal is journaled for the host (lifecycle `hook-refused`, never sent
/// to guests).
extension Store {
    /// What a hook's report came to.
    public enum HookOutcome: Sendable, Equatable {
        /// The container's instance is registered and started; `droppedCgroup`: the cgroup
        /// given was another running instance's, and was not recorded.
        case started(Instance, droppedCgroup: Bool)
        /// The container's instances are stopped.
        case stopped
        /// The name belongs to the host (nil) or to another container: nothing changed but
        /// the journal's `hook-refused` entry.
        case refused(holder: RuntimeContainer?)
    }

    /// A container started: registers its instance with `config` and `devices` (from the
    /// runtime's annotations, filtered by the caller), or, if the container registered it
    /// before, records its new init and starts it again. Annotations count only when the
    /// instance is made: what the host set since is never overwritten.
    ///
    /// A cgroup that another running instance holds is not recorded (the namespace rule
    /// stands alone). One transaction.
    public func startInstance(
        name: String, container: RuntimeContainer, identity: InstanceIdentity,
        config: [String: [UInt8]], devices: [String: [String: String]]
    ) throws -> HookOutcome {
        try Validation.checkInstance(name: name, configKeys: config.keys, devices: devices)
        return try write {
            var identity = identity
            let existing = try existingInstance(named: name)
            if let existing, existing.container != container {
                try journalRefusal(of: container, at: existing)
                return .refused(holder: existing.container)
            }
            let dropped = try identity.cgroup.map { try cgroupHeld($0, except: existing?.id) } ?? false
            if dropped { identity.cgroup = nil }
            if let existing {
                try updateIdentity(instanceID: existing.id, identity)
                try db.statement("UPDATE instances SET stopped = 0 WHERE id = ?").run(.int(existing.id))
            } else {
                let id = try insertInstance(name: name, type: .container, identity: identity, container: container, rootUID: 0)
                try upsertConfig(instanceID: id, config.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
                for (device, settings) in devices.sorted(by: { $0.key < $1.key }) {
                    try putDevice(instanceID: id, device: device, config: settings)
                }
            }
            return .started(try instance(named: name), droppedCgroup: dropped)
        }
    }

    /// The container stopped: its instances (found by the container, whatever they are named
    /// now) have their Ready state cleared, and no process is recognized as them until they
    /// start again. Config and devices stay. A container with none that names another's
    /// instance is refused.
    public func stopInstance(name: String, container: RuntimeContainer) throws -> HookOutcome {
        try write {
            if try db.integer("SELECT 1 FROM instances WHERE container = ?", .text(container.description)) != nil {
                // Its namespace dies with it: the number may be the next container's.
                try db.statement("UPDATE instances SET stopped = 1, ready = 0, pidns_inode = NULL WHERE container = ? AND stopped = 0")
                    .run(.text(container.description))
                return .stopped
            }
            let existing = try instance(named: name)
            try journalRefusal(of: container, at: existing)
            return .refused(holder: existing.container)
        }
    }

    /// Whether another instance that is not stopped has this cgroup.
    private func cgroupHeld(_ cgroup: String, except id: Int?) throws -> Bool {
        try db.integer("SELECT 1 FROM instances WHERE cgroup = ? AND stopped = 0 AND id IS NOT ?", .text(cgroup), .optional(id)) != nil
    }

    /// The host's record of a refused hook: on the instance it named, with the container that asked.
    private func journalRefusal(of container: RuntimeContainer, at instance: Instance) throws {
        try db.statement(
            """
            INSERT INTO journal (ts_ns, instance_id, instance, kind, name, action)
            VALUES (guestapi_now_ns(), ?, ?, 'lifecycle', ?, 'hook-refused')
            """
        ).run(.int(instance.id), .text(instance.name), .text(container.description))
    }
}
