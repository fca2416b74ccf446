import Foundation
import GuestJSON

/// The input of `guestapi-admin apply`: instances as they should be. Read strictly: an unknown
/// field (a misspelled `confg` would otherwise wipe a config), a value of the wrong type, a
/// name given twice, each is an error naming its place (`instances[3].confg: unknown field`).
///
/// The format is `InstanceRecord`'s, the one JSON shape the CLI prints: `export` writes it,
/// and so does `instance show --format json` (one instance, which apply takes as it is).
public struct DesiredState: Sendable {
    public struct Instance: Sendable {
        public var name: String
        public var type: GuestStore.Instance.Kind?
        public var pid: Int?
        /// The init's start time as exported: with the recorded pid, the identity stands as it is.
        public var pidStartTime: Int?
        public var cgroup: String?
        /// Who it belongs to: `"container": "oci:…"`, or `null` for the host; absent, as it was.
        public var owner = Store.Owner.unchanged
        public var rootUID: Int?
        public var config: [String: [UInt8]]?
        public var devices: [String: [String: String]]?

        public init(
            name: String, type: GuestStore.Instance.Kind? = nil, pid: Int? = nil, pidStartTime: Int? = nil,
            cgroup: String? = nil, owner: Store.Owner = .unchanged, rootUID: Int? = nil, config: [String: [UInt8]]? = nil,
            devices: [String: [String: String]]? = nil
        ) {
            self.name = name
            self.type = type
            self.pid = pid
            self.pidStartTime = pidStartTime
            self.cgroup = cgroup
            self.owner = owner
            self.rootUID = rootUID
            self.config = config
            self.devices = devices
        }
    }

    public var instances: [Instance]

    public init(instances: [Instance]) { self.instances = instances }

    /// Fields `apply` reads; and those `instance show` prints that describe the instance as it
    /// is (accepted so that its output can be applied, and ignored).
    static let fields = ["name", "type", "pid", "pid_start_time", "cgroup", "container", "root_uid", "config", "devices"]
    static let reportedFields = ["id", "state", "pidns_inode", "created_at"]

    /// Parses a document: `{"instances": [...]}`, or one instance object.
    public init(json bytes: [UInt8]) throws {
        let document: JSONText
        do {
            document = try JSONText(parsing: bytes)
        } catch {
            throw StoreError.invalidArgument("\(error)")
        }
        guard case .object(let members) = document else {
            throw StoreError.invalidArgument("the document is \(document.kind): expected an object with \"instances\"")
        }
        if members.contains(where: { $0.key == "name" }) {
            instances = [try Self.instance(document, at: "")]
            return
        }
        try Self.onlyKnown(members, ["instances"], at: "")
        guard let list = members.first(where: { $0.key == "instances" })?.value else {
            throw StoreError.invalidArgument("instances: missing (the document is {\"instances\": [...]})")
        }
        guard case .array(let items) = list else { throw StoreError.invalidArgument("instances: expected an array, got \(list.kind)") }
        instances = try items.enumerated().map { try Self.instance($1, at: "instances[\($0)]") }
        var seen = Set<String>()
        for (index, item) in instances.enumerated() where !seen.insert(item.name).inserted {
            throw StoreError.invalidArgument("instances[\(index)].name: instance \"\(item.name)\" is listed twice")
        }
    }

    private static func instance(_ value: JSONText, at path: String) throws -> Instance {
        let place = { (field: String) in path.isEmpty ? field : "\(path).\(field)" }
        guard case .object(let members) = value else { throw StoreError.invalidArgument("\(path): expected an object, got \(value.kind)") }
        try onlyKnown(members, fields + reportedFields, at: path)
        let field = { (name: String) in members.first { $0.key == name }?.value }
        guard let nameValue = field("name") else { throw StoreError.invalidArgument("\(place("name")): missing") }
        var item = Instance(name: try string(nameValue, at: place("name")))
        try wrap(place("name")) { try Validation.checkName(item.name) }
        if let type = field("type") {
            let text = try string(type, at: place("type"))
            guard let kind = GuestStore.Instance.Kind(rawValue: text) else {
                throw StoreError.invalidArgument("\(place("type")): \"\(text)\" is not container or virtual-machine")
            }
            item.type = kind
        }
        item.pid = try field("pid").flatMap { try integer($0, at: place("pid"), in: 1...Int(Int32.max)) }
        item.pidStartTime = try field("pid_start_time").flatMap { try integer($0, at: place("pid_start_time"), in: 0...Int.max) }
        item.cgroup = try field("cgroup").flatMap { try optionalString($0, at: place("cgroup")) }
        if let container = field("container") {
            item.owner =
                try optionalString(container, at: place("container")).map { text in
                    .container(try wrap(place("container")) { try RuntimeContainer(parsing: text) })
                } ?? .host
        }
        item.rootUID = try field("root_uid").flatMap { try integer($0, at: place("root_uid"), in: 0...Int(UInt32.max)) }
        if let config = field("config") {
            guard case .object(let entries) = config else {
                throw StoreError.invalidArgument("\(place("config")): expected an object, got \(config.kind)")
            }
            var values: [String: [UInt8]] = [:]
            for (key, value) in entries {
                try wrap(place("config") + ".\(key)") { try Validation.checkKey(key) }
                values[key] = try configValue(value, at: place("config") + ".\(key)")
            }
            item.config = values
        }
        if let devices = field("devices") {
            guard case .object(let entries) = devices else {
                throw StoreError.invalidArgument("\(place("devices")): expected an object, got \(devices.kind)")
            }
            var result: [String: [String: String]] = [:]
            for (name, device) in entries {
                let at = place("devices") + ".\(name)"
                try wrap(at) { try Validation.checkName(name) }
                guard case .object(let settings) = device else {
                    throw StoreError.invalidArgument("\(at): expected an object, got \(device.kind)")
                }
                var config: [String: String] = [:]
                for (key, value) in settings {
                    try wrap("\(at).\(key)") { try Validation.checkDeviceKey(key) }
                    config[key] = try string(value, at: "\(at).\(key)")
                }
                guard let type = config["type"], !type.isEmpty else { throw StoreError.invalidArgument("\(at).type: missing") }
                try wrap("\(at).type") { try Validation.checkDeviceType(type) }
                result[name] = config
            }
            item.devices = result
        }
        return item
    }

    private static func onlyKnown(_ members: [(key: String, value: JSONText)], _ known: [String], at path: String) throws {
        for (key, _) in members where !known.contains(key) {
            throw StoreError.invalidArgument(
                "\(path.isEmpty ? key : "\(path).\(key)"): unknown field (known: \(known.joined(separator: ", ")))")
        }
    }

    private static func string(_ value: JSONText, at path: String) throws -> String {
        guard case .string(let text) = value else { throw StoreError.invalidArgument("\(path): expected a string, got \(value.kind)") }
        return text
    }

    private static func optionalString(_ value: JSONText, at path: String) throws -> String? {
        value == .null ? nil : try string(value, at: path)
    }

    private static func integer(_ value: JSONText, at path: String, in range: ClosedRange<Int>) throws -> Int? {
        switch value {
        case .null: return nil
        case .integer(let n) where range.contains(n): return n
        case .integer, .number:
            throw StoreError.invalidArgument("\(path): expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        default: throw StoreError.invalidArgument("\(path): expected a number, got \(value.kind)")
        }
    }

    /// A config value: a string, or `{"base64": "…"}` for bytes that are not UTF-8.
    private static func configValue(_ value: JSONText, at path: String) throws -> [UInt8] {
        switch value {
        case .string(let text):
            return Array(text.utf8)
        case .object(let members) where members.count == 1 && members[0].key == "base64":
            guard case .string(let encoded) = members[0].value, let bytes = Data(base64Encoded: encoded) else {
                throw StoreError.invalidArgument("\(path).base64: expected base64 text")
            }
            return Array(bytes)
        default:
            throw StoreError.invalidArgument("\(path): expected a string (or {\"base64\": \"…\"}), got \(value.kind)")
        }
    }

    /// Runs a validation, its error placed at `path`.
    private static func wrap<T>(_ path: String, _ check: () throws -> T) throws -> T {
        do { return try check() } catch let error as StoreError { throw StoreError.invalidArgument("\(path): \(error)") }
    }
}
