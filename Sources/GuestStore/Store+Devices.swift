import Foundation
import GuestJSON

/// Devices: a name and a flat map of strings (its `type` included), journaled by triggers.
extension Store {
    public func addDevice(instance name: String?, device: String, type: String, settings: [(key: String, value: String)]) throws {
        try Validation.checkName(device)
        try Validation.checkDeviceType(type)
        var config = Dictionary(settings, uniquingKeysWith: { $1 })
        config["type"] = type
        try write {
            let target = try targetInstance(named: name)
            if try deviceConfig(instanceID: target.id, device: device) != nil {
                throw StoreError.deviceExists(device: device, instance: target.name)
            }
            try putDevice(instanceID: target.id, device: device, config: config)
        }
    }

    /// Changes some keys of a device; `key=` (empty value) removes a key.
    public func updateDevice(instance name: String?, device: String, settings: [(key: String, value: String)]) throws {
        try write {
            let target = try targetInstance(named: name)
            guard var config = try deviceConfig(instanceID: target.id, device: device) else {
                throw StoreError.deviceNotFound(device: device, instance: target.name)
            }
            for (key, value) in settings { config[key] = value.isEmpty ? nil : value }
            if config["type", default: ""].isEmpty { throw StoreError.invalidArgument("a device's type cannot be removed") }
            // Checked when it changes: a device kept from before types were checked can still be edited.
            if settings.contains(where: { $0.key == "type" }) { try Validation.checkDeviceType(config["type"]!) }
            try putDevice(instanceID: target.id, device: device, config: config)
        }
    }

    public func removeDevice(instance name: String?, device: String) throws {
        try write {
            let target = try targetInstance(named: name)
            try db.statement("DELETE FROM devices WHERE instance_id = ? AND name = ?").run(.int(target.id), .text(device))
            if db.changes == 0 { throw StoreError.deviceNotFound(device: device, instance: target.name) }
        }
    }

    /// Inserts or replaces; the canonical JSON makes an unchanged config a no-op.
    func putDevice(instanceID: Int, device: String, config: [String: String]) throws {
        try db.statement(
            """
            INSERT INTO devices (instance_id, name, config) VALUES (?, ?, ?)
            ON CONFLICT (instance_id, name) DO UPDATE SET config = excluded.config WHERE config IS NOT excluded.config
            """
        ).run(.int(instanceID), .text(device), .text(JSONWriter.canonical(config)))
    }

    func deviceConfig(instanceID: Int, device: String) throws -> [String: String]? {
        try db.statement("SELECT config FROM devices WHERE instance_id = ? AND name = ?")
            .first(.int(instanceID), .text(device)) { try Self.decodeDevice($0.text(0), name: device) }
    }

    /// All devices of an instance, by name.
    public func devices(instanceID: Int) throws -> [String: [String: String]] {
        var result: [String: [String: String]] = [:]
        try wrapped {
            try db.statement("SELECT name, config FROM devices WHERE instance_id = ?").forEach([.int(instanceID)]) {
                result[$0.text(0)] = try Self.decodeDevice($0.text(1), name: $0.text(0))
            }
        }
        return result
    }

    /// A device's config as stored: a JSON object of strings (the schema checks it is an
    /// object). Anything else is a damaged database, said as such, not an empty device.
    static func decodeDevice(_ json: String, name: String) throws -> [String: String] {
        let document: JSONText
        do {
            document = try JSONText(parsing: Array(json.utf8))
        } catch {
            throw StoreError.io("device \(name) has a config that is not JSON: \(error)")
        }
        guard case .object(let members) = document else { throw StoreError.io("device \(name) has a config that is not an object") }
        var config: [String: String] = [:]
        for (key, value) in members {
            guard case .string(let text) = value else { throw StoreError.io("device \(name) has a setting \(key) that is not a string") }
            config[key] = text
        }
        return config
    }
}
