/// Instances: registration, identity, listing.
extension Store {
    static let instanceColumns = """
        id, name, type, init_pid, init_start_time, pidns_inode, cgroup, root_uid, ready, generation, created_ns, stopped, container
        """

    static func instance(_ row: Row) -> Instance {
        Instance(
            id: row.int(0), name: row.text(1), type: Instance.Kind(rawValue: row.text(2)) ?? .container,
            identity: InstanceIdentity(
                initPID: row.optionalInt(3), initStartTime: row.optionalInt(4),
                pidNamespaceInode: row.optionalInt(5), cgroup: row.optionalText(6)),
            container: row.optionalText(12).flatMap { try? RuntimeContainer(parsing: $0) },
            rootUID: row.int(7), ready: row.int(8) != 0, stopped: row.int(11) != 0, attachCount: row.int(9), createdNanoseconds: row.int(10)
        )
    }

    public func instances() throws -> [Instance] {
        try wrapped {
            try db.statement("SELECT \(Self.instanceColumns) FROM instances ORDER BY name").map(transform: Self.instance)
        }
    }

    public func instanceCount() throws -> Int {
        try wrapped { try db.integer("SELECT count(*) FROM instances") ?? 0 }
    }

    public func instance(named name: String) throws -> Instance {
        guard let found = try existingInstance(named: name) else { throw StoreError.instanceNotFound(name) }
        return found
    }

    /// The instance of that name, nil when there is none; a failing database still throws.
    public func existingInstance(named name: String) throws -> Instance? {
        try wrapped {
            try db.statement("SELECT \(Self.instanceColumns) FROM instances WHERE name = ?").first(.text(name), transform: Self.instance)
        }
    }

    /// The instance a command is about: the one named, else the only one.
    public func targetInstance(named name: String?) throws -> Instance {
        if let name { return try instance(named: name) }
        let names = try wrapped { try db.statement("SELECT name FROM instances ORDER BY name LIMIT 11").map { $0.text(0) } }
        switch names.count {
        case 0: throw StoreError.noInstances
        case 1: return try instance(named: names[0])
        default: throw StoreError.ambiguousInstance(names.count > 10 ? names.prefix(10) + ["…"] : names)
        }
    }

    /// Registers an instance: the host's, or handed to `container` at once.
    public func createInstance(
        name: String, type: Instance.Kind = .container, identity: InstanceIdentity = .init(),
        container: RuntimeContainer? = nil, rootUID: Int = 0, config: [(key: String, value: String)] = []
    ) throws -> Instance {
        try Validation.checkName(name)
        for item in config { try Validation.checkKey(item.key) }
        return try write {
            if try db.integer("SELECT 1 FROM instances WHERE name = ?", .text(name)) != nil {
                throw StoreError.instanceExists(name)
            }
            let id = try insertInstance(name: name, type: type, identity: identity, container: container, rootUID: rootUID)
            for item in config { try upsertConfig(instanceID: id, key: item.key, value: Array(item.value.utf8)) }
            return try instance(named: name)
        }
    }

    /// Who an instance is to belong to (`attachInstance`, `apply`).
    public enum Owner: Sendable, Equatable {
        /// As it was (the host's, for a new instance).
        case unchanged
        /// The host's alone.
        case host
        /// This container's.
        case container(RuntimeContainer)

        /// Who an instance that was `current`'s belongs to after this.
        func applied(to current: RuntimeContainer?) -> RuntimeContainer? {
            switch self {
            case .unchanged: current
            case .host: nil
            case .container(let container): container
            }
        }
    }

    /// Gives the instance a new identity, whole: a restarted init (a stopped instance starts),
    /// or none until its container's hook registers one. Nothing of the old identity is kept,
    /// so a cgroup or namespace another process had slipped in goes with it. Open connections
    /// are checked again.
    public func attachInstance(name: String, identity: InstanceIdentity, owner: Owner = .unchanged) throws -> Instance {
        try write {
            let existing = try instance(named: name)
            try updateIdentity(instanceID: existing.id, identity)
            try db.statement("UPDATE instances SET stopped = 0 WHERE id = ?").run(.int(existing.id))
            try setContainer(instanceID: existing.id, owner.applied(to: existing.container))
            return try instance(named: name)
        }
    }

    func setContainer(instanceID: Int, _ container: RuntimeContainer?) throws {
        try db.statement("UPDATE instances SET container = ? WHERE id = ? AND container IS NOT ?")
            .run(.optional(container?.description), .int(instanceID), .optional(container?.description))
    }

    public func deleteInstance(name: String) throws {
        try write {
            let existing = try instance(named: name)
            try db.statement("DELETE FROM instances WHERE id = ?").run(.int(existing.id))
        }
    }

    func insertInstance(
        name: String, type: Instance.Kind, identity: InstanceIdentity, container: RuntimeContainer?,
        rootUID: Int
    ) throws -> Int {
        try checkIdentityFree(identity, except: nil)
        try db.statement(
            """
            INSERT INTO instances (name, type, init_pid, init_start_time, pidns_inode, cgroup, root_uid, container, created_ns)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, guestapi_now_ns())
            """
        ).run(
            .text(name), .text(type.rawValue), .optional(identity.initPID), .optional(identity.initStartTime),
            .optional(identity.pidNamespaceInode), .optional(identity.cgroup), .int(rootUID),
            .optional(container?.description))
        return try db.integer("SELECT last_insert_rowid()") ?? 0
    }

    /// A new identity counts one more attach, which journals `instance-attached`. (The column
    /// is `generation`, the attach count's first name: renaming it would break an older
    /// daemon that still runs while a newer CLI migrates the file.)
    func updateIdentity(instanceID: Int, _ identity: InstanceIdentity) throws {
        try checkIdentityFree(identity, except: instanceID)
        try db.statement(
            """
            UPDATE instances SET init_pid = ?, init_start_time = ?, pidns_inode = ?, cgroup = ?, generation = generation + 1
            WHERE id = ?
            """
        ).run(
            .optional(identity.initPID), .optional(identity.initStartTime),
            .optional(identity.pidNamespaceInode), .optional(identity.cgroup), .int(instanceID))
    }

    /// An init process (pid and start time), a namespace and a cgroup identify one instance each.
    ///
    /// A namespace or cgroup an instance no longer uses is let go of rather than refused: a
    /// stopped instance's, and a namespace whose registered init no longer runs in it
    /// (`initIsRunning`, when the caller can tell): the kernel gives a dead namespace's inode
    /// number to the next one made, which may be the one registered now.
    func checkIdentityFree(_ identity: InstanceIdentity, except id: Int?) throws {
        let checks: [(what: String, column: String, sql: String, values: [SQLValue])?] = [
            identity.initPID.map {
                ("pid \($0)", "", "init_pid = ? AND init_start_time IS ?", [.int($0), .optional(identity.initStartTime)])
            },
            identity.pidNamespaceInode.map { ("PID namespace \($0)", "pidns_inode", "pidns_inode = ?", [.int($0)]) },
            identity.cgroup.map { ("cgroup \($0)", "cgroup", "cgroup = ?", [.text($0)]) },
        ]
        for case let check? in checks {
            var owner: (id: Int, name: String, stopped: Bool, pid: Int?, startTime: Int?)?
            try db.statement("SELECT id, name, stopped, init_pid, init_start_time FROM instances WHERE \(check.sql) AND id IS NOT ?")
                .forEach(check.values + [.optional(id)]) {
                    owner = ($0.int(0), $0.text(1), $0.int(2) != 0, $0.optionalInt(3), $0.optionalInt(4))
                }
            guard let owner else { continue }
            let unused: Bool
            switch check.column {
            case "cgroup":
                unused = owner.stopped
            case "pidns_inode":
                let running = owner.pid.map { initIsRunning?($0, owner.startTime, identity.pidNamespaceInode!) ?? true } ?? true
                unused = owner.stopped || !running
            default:
                unused = false
            }
            guard unused else { throw StoreError.identityInUse(what: check.what, owner: owner.name) }
            if check.column == "pidns_inode" {
                // Its init is gone: the instance is stopped (and its streams end), not left
                // standing with a cgroup and no namespace for anyone in that cgroup to be.
                try db.statement("UPDATE instances SET pidns_inode = NULL, stopped = 1, ready = 0 WHERE id = ?").run(.int(owner.id))
            } else {
                try db.statement("UPDATE instances SET \(check.column) = NULL WHERE id = ?").run(.int(owner.id))
            }
        }
    }

    /// Marks the instance Ready (journaled every time) or Started.
    public func setReady(instanceID: Int, _ ready: Bool) throws {
        try write { try db.statement("UPDATE instances SET ready = ? WHERE id = ?").run(.int(ready ? 1 : 0), .int(instanceID)) }
    }
}
