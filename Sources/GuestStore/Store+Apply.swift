/// `apply`: make listed instances exactly as described, in one transaction.
extension Store {
    public struct ApplySummary: Sendable, Equatable {
        public var created = 0, updated = 0, deleted = 0, unchanged = 0
    }

    /// `identities` gives the resolved identity of each instance that names a pid or cgroup.
    /// `volatile.*` keys are the daemon's own and are kept unless listed.
    public func apply(_ state: DesiredState, identities: [String: InstanceIdentity], prune: Bool) throws -> ApplySummary {
        for item in state.instances {
            try Validation.checkInstance(name: item.name, configKeys: (item.config ?? [:]).keys, devices: item.devices ?? [:])
        }
        let names = Set(state.instances.map(\.name))
        if names.count != state.instances.count { throw StoreError.invalidArgument("an instance is listed twice") }
        return try write {
            var summary = ApplySummary()
            for item in state.instances {
                // Every change is journaled by a trigger, so "changed" is "changed a row".
                let before = db.totalChanges
                let existed = try applyOne(item, identity: identities[item.name] ?? InstanceIdentity())
                if !existed {
                    summary.created += 1
                } else if db.totalChanges != before {
                    summary.updated += 1
                } else {
                    summary.unchanged += 1
                }
            }
            if prune {
                for instance in try instances() where !names.contains(instance.name) {
                    try db.statement("DELETE FROM instances WHERE id = ?").run(.int(instance.id))
                    summary.deleted += 1
                }
            }
            return summary
        }
    }

    /// Returns whether the instance existed before.
    private func applyOne(_ item: DesiredState.Instance, identity: InstanceIdentity) throws -> Bool {
        let type = item.type ?? .container
        let existing = try db.statement("SELECT \(Self.instanceColumns) FROM instances WHERE name = ?")
            .first(.text(item.name), transform: Self.instance)
        let id: Int
        if let existing {
            id = existing.id
            if existing.type != type || existing.rootUID != (item.rootUID ?? 0) {
                try db.statement("UPDATE instances SET type = ?, root_uid = ? WHERE id = ?")
                    .run(.text(type.rawValue), .int(item.rootUID ?? 0), .int(id))
            }
            if existing.identity != identity {
                try updateIdentity(instanceID: id, identity)
            }
            try setContainer(instanceID: id, item.owner.applied(to: existing.container))
        } else {
            id = try insertInstance(
                name: item.name, type: type, identity: identity, container: item.owner.applied(to: nil),
                rootUID: item.rootUID ?? 0)
        }
        let config = item.config ?? [:]
        if existing != nil {
            let stale = try db.statement("SELECT key FROM config WHERE instance_id = ? AND key NOT GLOB 'volatile.*'")
                .map(.int(id)) { $0.text(0) }.filter { config[$0] == nil }
            for key in stale { try db.statement("DELETE FROM config WHERE instance_id = ? AND key = ?").run(.int(id), .text(key)) }
        }
        try upsertConfig(instanceID: id, config.sorted(by: { $0.key < $1.key }).map { ($0.key, $0.value) })
        let devices = item.devices ?? [:]
        if existing != nil {
            let stale = try db.statement("SELECT name FROM devices WHERE instance_id = ?").map(.int(id)) { $0.text(0) }
                .filter { devices[$0] == nil }
            for name in stale { try db.statement("DELETE FROM devices WHERE instance_id = ? AND name = ?").run(.int(id), .text(name)) }
        }
        for (name, config) in devices.sorted(by: { $0.key < $1.key }) {
            try putDevice(instanceID: id, device: name, config: config)
        }
        return existing != nil
    }
}
