/// Containers starting and stopping, as a runtime's hooks report them (`guestapi-admin hook`).
extension Store {
    /// A container started: registers the instance with `config` and `devices` (from the
    /// runtime's annotations), or, if it exists, records its new init and starts it again;
    /// then annotations only add keys and devices it does not have: what the host set wins.
    /// One transaction: an identity another instance holds leaves nothing half done.
    public func startInstance(name: String, identity: InstanceIdentity, config: [String: [UInt8]],
                              devices: [String: [String: String]]) throws -> Instance {
        try Validation.checkInstance(name: name, configKeys: config.keys, devices: devices)
        return try write {
            let id: Int
            if let existing = try existingInstance(named: name) {
                id = existing.id
                try updateIdentity(instanceID: id, identity)
                try db.statement("UPDATE instances SET stopped = 0 WHERE id = ?").run(.int(id))
            } else {
                id = try insertInstance(name: name, type: .container, identity: identity, rootUID: 0)
            }
            let present = Set(try self.config(instanceID: id).map(\.key))
            try upsertConfig(instanceID: id, config.filter { !present.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            for (device, settings) in devices.sorted(by: { $0.key < $1.key }) where try deviceConfig(instanceID: id, device: device) == nil {
                try putDevice(instanceID: id, device: device, config: settings)
            }
            return try instance(named: name)
        }
    }
}
