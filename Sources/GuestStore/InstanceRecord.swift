import Foundation

/// An instance in the one JSON shape the CLI prints (`instance list|show --format json`,
/// `export`) and `apply` reads: snake_case names, RFC 3339 times. `config` and `devices` are
/// left out of listings; the fields after them describe the instance as it is, and `apply`
/// accepts and ignores them.
public struct InstanceRecord: Sendable, Encodable {
    public var name: String
    public var type: Instance.Kind
    public var pid: Int?
    public var pidStartTime: Int?
    public var cgroup: String?
    /// The container whose runtime's hooks may start and stop it; nil: the host's.
    public var container: String?
    public var rootUID: Int
    public var config: [(key: String, value: [UInt8])]?
    public var devices: [String: [String: String]]?
    public var id: Int?
    public var state: String?
    public var pidnsInode: Int?
    public var createdAt: String?

    /// The desired-state part, as `export` writes it.
    public init(_ instance: Instance, config: [(key: String, value: [UInt8])]?, devices: [String: [String: String]]?) {
        name = instance.name
        type = instance.type
        pid = instance.identity.initPID
        pidStartTime = instance.identity.initStartTime
        cgroup = instance.identity.cgroup
        container = instance.container?.description
        rootUID = instance.rootUID
        self.config = config
        self.devices = devices
    }

    /// With what describes the instance as it is, as `instance list|show` print it.
    public init(_ instance: Instance, state: String, config: [(key: String, value: [UInt8])]?, devices: [String: [String: String]]?) {
        self.init(instance, config: config, devices: devices)
        id = instance.id
        self.state = state
        pidnsInode = instance.identity.pidNamespaceInode
        createdAt = JournalEntry.rfc3339(nanoseconds: instance.createdNanoseconds)
    }

    enum CodingKeys: String, CodingKey {
        case name, type, pid, cgroup, container, config, devices, id, state
        case pidStartTime = "pid_start_time"
        case rootUID = "root_uid"
        case pidnsInode = "pidns_inode"
        case createdAt = "created_at"
    }

    /// A config value that is not UTF-8 is written `{"base64": "…"}`: nothing is lost.
    private struct ConfigValue: Encodable {
        var bytes: [UInt8]
        func encode(to encoder: Encoder) throws {
            if let text = String(validating: bytes, as: UTF8.self) {
                var container = encoder.singleValueContainer()
                try container.encode(text)
            } else {
                var container = encoder.container(keyedBy: Base64Key.self)
                try container.encode(Data(bytes).base64EncodedString(), forKey: .base64)
            }
        }
        enum Base64Key: String, CodingKey { case base64 }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(type, forKey: .type)
        try container.encodeIfPresent(pid, forKey: .pid)
        try container.encodeIfPresent(pidStartTime, forKey: .pidStartTime)
        try container.encodeIfPresent(cgroup, forKey: .cgroup)
        try container.encodeIfPresent(self.container, forKey: .container)
        try container.encode(rootUID, forKey: .rootUID)
        if let config {
            try container.encode(Dictionary(uniqueKeysWithValues: config.map { ($0.key, ConfigValue(bytes: $0.value)) }), forKey: .config)
        }
        try container.encodeIfPresent(devices, forKey: .devices)
        try container.encodeIfPresent(id, forKey: .id)
        try container.encodeIfPresent(state, forKey: .state)
        try container.encodeIfPresent(pidnsInode, forKey: .pidnsInode)
        try container.encodeIfPresent(createdAt, forKey: .createdAt)
    }
}
