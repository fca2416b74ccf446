/// The reads behind the guest API and identity, each one indexed statement.
extension Store {
    public func guestInstance(id: Int) throws -> GuestInstance? {
        guard inSnapshot else { return try readGuestInstance(id: id) }
        return try instanceMemo.value(for: id, revision: revision) { try readGuestInstance(id: id) }
    }

    private func readGuestInstance(id: Int) throws -> GuestInstance? {
        try wrapped {
            try db.statement(
                """
                SELECT name, type, generation, ready, root_uid, created_ns, stopped,
                    (SELECT value FROM config WHERE instance_id = i.id AND key = 'security.guestapi'),
                    (SELECT value FROM config WHERE instance_id = i.id AND key = 'security.guestapi.images'),
                    (SELECT value FROM config WHERE instance_id = i.id AND key = 'security.guestapi.identity')
                FROM instances i WHERE id = ?
                """
            ).first(.int(id)) { row in
                GuestInstance(
                    id: id, name: row.text(0), type: Instance.Kind(rawValue: row.text(1)) ?? .container,
                    createdNanoseconds: row.int(5), attachCount: row.int(2), ready: row.int(3) != 0, stopped: row.int(6) != 0,
                    rootUID: row.int(4),
                    apiEnabled: GuestInstance.flag(row.optionalBlob(7), default: true),
                    imagesEnabled: GuestInstance.flag(row.optionalBlob(8), default: false),
                    identityEnabled: GuestInstance.flag(row.optionalBlob(9), default: true))
            }
        }
    }

    /// Instances whose init has this pid (more than one only if stale registrations linger).
    public func identityMatches(initPID pid: Int) throws -> [IdentityMatch] {
        try matches(.initPID(pid))
    }

    public func identityMatch(pidNamespaceInode inode: Int) throws -> IdentityMatch? {
        try matches(.namespace(inode)).first
    }

    public func identityMatch(cgroup: String) throws -> IdentityMatch? {
        try matches(.cgroup(cgroup)).first
    }

    /// The instance of an LXC container, as its monitor names it: the one the container
    /// registered, or the host's of that name; never another runtime's container's.
    public func identityMatch(lxcPath: String, name: String) throws -> IdentityMatch? {
        try matches(.lxcMonitor(path: lxcPath, name: name)).first
    }

    // Made once: identity runs these for every ancestor of every new connection.
    // A stopped instance matches no process.
    private static let matchColumns =
        "SELECT id, created_ns, generation, init_pid, init_start_time, pidns_inode FROM instances WHERE stopped = 0 AND "
    private static let matchByInitPID = matchColumns + "init_pid = ?"
    private static let matchByNamespace = matchColumns + "pidns_inode = ?"
    private static let matchByCgroup = matchColumns + "cgroup = ?"
    private static let matchByLXCMonitor = matchColumns + "name = ? AND (container IS NULL OR container = ?)"

    private func matches(_ query: IdentityQuery) throws -> [IdentityMatch] {
        guard inSnapshot else { return try readMatches(query) }
        return try identityMemo.value(for: query, revision: revision) { try readMatches(query) }
    }

    private func readMatches(_ query: IdentityQuery) throws -> [IdentityMatch] {
        let (sql, values): (String, [SQLValue]) =
            switch query {
            case .initPID(let pid): (Self.matchByInitPID, [.int(pid)])
            case .namespace(let inode): (Self.matchByNamespace, [.int(inode)])
            case .cgroup(let path): (Self.matchByCgroup, [.text(path)])
            case .lxcMonitor(let path, let name):
                (Self.matchByLXCMonitor, [.text(name), .text(RuntimeContainer.Runtime.lxc.rawValue + ":" + path + "/" + name)])
            }
        return try wrapped {
            try db.statement(sql).map(values) {
                IdentityMatch(
                    instanceID: $0.int(0), createdNanoseconds: $0.int(1), attachCount: $0.int(2),
                    initPID: $0.optionalInt(3), initStartTime: $0.optionalInt(4), pidNamespaceInode: $0.optionalInt(5))
            }
        }
    }

    /// The keys a guest may list: `user.*` and `cloud-init.*`, in byte order.
    public func guestConfigKeys(instanceID: Int) throws -> [String] {
        try wrapped {
            try db.statement(
                """
                SELECT key FROM config WHERE instance_id = ? AND (key GLOB 'user.*' OR key GLOB 'cloud-init.*') ORDER BY key
                """
            ).map(.int(instanceID)) { $0.text(0) }
        }
    }

    /// Devices as the guest sees them: a nic without `hwaddr` shows `volatile.<name>.hwaddr`.
    public func guestDevices(instanceID: Int) throws -> [String: [String: String]] {
        var devices = try devices(instanceID: instanceID)
        for (name, config) in devices where config["type"] == "nic" && config["hwaddr"] == nil {
            if let hwaddr = try configValue(instanceID: instanceID, key: "volatile.\(name).hwaddr") {
                devices[name]?["hwaddr"] = String(decoding: hwaddr, as: UTF8.self)
            }
        }
        return devices
    }

    /// cloud-init's meta-data: instance-id, hostname, then `user.meta-data` as it is (whole
    /// up to `wholeUpTo` bytes, else by reference, as `guestValue` gives it), and the digest
    /// that names the whole.
    public func metaData(
        instanceID: Int, name: String, wholeUpTo: Int
    ) throws -> (
        head: [UInt8], rest: GuestValue?, digest: ContentDigest
    ) {
        let instanceIDValue = try configValue(instanceID: instanceID, key: "volatile.cloud-init.instance-id")
        var text = Array("#cloud-config\ninstance-id: ".utf8)
        text += instanceIDValue ?? Array(name.utf8)
        text += Array("\nlocal-hostname: \(name)\n".utf8)
        switch try guestValue(instanceID: instanceID, key: "user.meta-data", wholeUpTo: wholeUpTo) {
        case let (.stored(value), digest)?: return (text, .stored(value), ContentDigest(parts: [text, digest.bytes]))
        case let (.bytes(bytes), _)?: return (text + bytes, nil, ContentDigest(text + bytes))
        case nil: return (text, nil, ContentDigest(text))
        }
    }

    /// A config value for a guest's answer: read whole when it has at most `wholeUpTo` bytes,
    /// else only its size and where it is, to be sent in pieces (`beginValue`); with its
    /// digest (`config_digests`). The lookup walks keys alone (`config_by_key`); the size of a
    /// blob (as every writer stores values) is read from its row's header, not from the value;
    /// a text's is counted in bytes.
    public func guestValue(instanceID: Int, key: String, wholeUpTo: Int) throws -> (value: GuestValue, digest: ContentDigest)? {
        try wrapped {
            try db.statement(
                """
                SELECT c.id, c.version, c.size, CASE WHEN c.size <= ? THEN c.value END, d.digest
                FROM (SELECT id, version, value,
                          CASE typeof(value) WHEN 'blob' THEN length(value) ELSE length(CAST(value AS BLOB)) END AS size
                      FROM config WHERE instance_id = ? AND key = ?) c
                LEFT JOIN config_digests d ON d.config_id = c.id
                """
            ).first(.int(wholeUpTo), .int(instanceID), .text(key)) { row in
                let value: GuestValue =
                    row.int(2) <= wholeUpTo
                    ? .bytes(row.blob(3))
                    : .stored(
                        StoredValue(
                            row: row.int(0), version: row.int(1), size: row.int(2), instanceID: instanceID,
                            key: key, fileEpoch: fileEpoch))
                return (value, Self.digest(row.optionalBlob(4), of: value))
            }
        }
    }

    /// One key of a recursive listing: its value when it is carried, else only its size.
    public struct ConfigEntry: Sendable, Equatable {
        public var key: String
        public var value: [UInt8]?
        public var size: Int
        public var digest: ContentDigest
    }

    /// Every `user.*` and `cloud-init.*` key of an instance, in order, each with its digest and
    /// size, and with its value if it has at most `wholeUpTo` bytes and the values of at most
    /// that size before it (in key order) come to at most `budget` bytes. A value not carried is
    /// never read (its size is its row's).
    public func guestConfig(instanceID: Int, wholeUpTo: Int, budget: Int) throws -> [ConfigEntry] {
        try wrapped {
            try db.statement(
                """
                SELECT key, id, version, size,
                    CASE WHEN size <= ?1 AND carried <= ?2 THEN (SELECT value FROM config WHERE id = c.id) END,
                    (SELECT digest FROM config_digests WHERE config_id = c.id)
                FROM (SELECT id, key, version, size,
                          sum(CASE WHEN size <= ?1 THEN size ELSE 0 END) OVER (ORDER BY key ROWS UNBOUNDED PRECEDING) AS carried
                      FROM (SELECT id, key, version,
                                CASE typeof(value) WHEN 'blob' THEN length(value) ELSE length(CAST(value AS BLOB)) END AS size
                            FROM config WHERE instance_id = ?3 AND (key GLOB 'user.*' OR key GLOB 'cloud-init.*'))) c
                ORDER BY key
                """
            ).map(.int(wholeUpTo), .int(budget), .int(instanceID)) { row in
                let (key, size) = (row.text(0), row.int(3))
                let value = row.optionalBlob(4)
                let stored = StoredValue(
                    row: row.int(1), version: row.int(2), size: size, instanceID: instanceID, key: key, fileEpoch: fileEpoch)
                return ConfigEntry(
                    key: key, value: value, size: size,
                    digest: Self.digest(row.optionalBlob(5), of: value.map(GuestValue.bytes) ?? .stored(stored)))
            }
        }
    }

    /// A value's digest as kept; for a row that has none (written with the triggers off), one
    /// made from its bytes, or, for a large value, from its row and version, which name it in
    /// this file.
    private static func digest(_ stored: [UInt8]?, of value: GuestValue) -> ContentDigest {
        if let stored, let digest = ContentDigest(stored: stored) { return digest }
        switch value {
        case .bytes(let bytes): return ContentDigest(bytes)
        case .stored(let value): return ContentDigest(parts: [Array("\(value.row).\(value.version)".utf8)])
        }
    }

    /// A public image by exact fingerprint, with its file's path.
    public func publicImage(fingerprint: String) throws -> (image: Image, path: String)? {
        let found = try wrapped {
            try db.statement("SELECT \(Self.imageColumns) FROM images WHERE fingerprint = ? AND public = 1")
                .first(.text(fingerprint), transform: Self.image)
        }
        return found.map { ($0, imagePath($0)) }
    }
}

/// One identity rule's lookup (README, "How a caller is recognized").
enum IdentityQuery: Hashable {
    case initPID(Int)
    case namespace(Int)
    case cgroup(String)
    case lxcMonitor(path: String, name: String)
}

/// What minting an identity token takes from the host settings (README, "Workload identity").
public struct IdentitySettings: Sendable, Equatable {
    /// Seconds a token is good for.
    public var lifetime: Int
    /// `iss`; nil: the daemon's default.
    public var issuer: String?
    /// The SPIFFE trust domain, if any.
    public var spiffeDomain: String?
}

extension Store {
    /// The identity settings, read once a revision in a snapshot.
    public func identitySettings() throws -> IdentitySettings {
        let read = {
            IdentitySettings(
                lifetime: try self.setting(.identityLifetime), issuer: try self.textSetting(.identityIssuer),
                spiffeDomain: try self.textSetting(.identitySpiffeDomain))
        }
        guard inSnapshot else { return try read() }
        return try settingsMemo.value(for: 0, revision: revision, compute: read)
    }

    /// A journal entry about the host itself (instance id 0, no name): key rotation and
    /// retirement. Guests never see it; `guestapi-admin journal` shows it.
    public func journalHostEvent(action: String, name: String) throws {
        try write {
            try db.statement(
                """
                INSERT INTO journal (ts_ns, instance_id, instance, kind, name, action)
                VALUES (guestapi_now_ns(), 0, '', 'lifecycle', ?, ?)
                """
            ).run(.text(name), .text(action))
        }
    }
}
