/// `apply --dry-run`: what `apply` would change, read and never written.
extension Store {
    /// What applying a desired state would do to each instance.
    public struct ApplyPlan: Sendable, Equatable {
        public enum Change: String, Sendable {
            case create, change, delete, unchanged
        }

        public struct Item: Sendable, Equatable {
            public var name: String
            public var change: Change
            /// Each difference, in words: `set user.a`, `remove device eth0`, `root_uid 0 -> 1000`…
            public var details: [String]

            static func creating(_ item: DesiredState.Instance) -> Item {
                let details =
                    (item.config ?? [:]).keys.sorted().map { "set \($0)" } + (item.devices ?? [:]).keys.sorted().map { "add device \($0)" }
                return Item(name: item.name, change: .create, details: details)
            }
        }

        public var items: [Item]

        /// The plan when there is no database yet: every instance is created.
        public static func creating(_ state: DesiredState) -> ApplyPlan {
            ApplyPlan(items: state.instances.map(Item.creating))
        }

        public var summary: ApplySummary {
            var summary = ApplySummary()
            for item in items {
                switch item.change {
                case .create: summary.created += 1
                case .change: summary.updated += 1
                case .delete: summary.deleted += 1
                case .unchanged: summary.unchanged += 1
                }
            }
            return summary
        }
    }

    /// The plan against this database; `identities` as for `apply`.
    public func plan(_ state: DesiredState, identities: [String: InstanceIdentity], prune: Bool) throws -> ApplyPlan {
        var items: [ApplyPlan.Item] = []
        for item in state.instances {
            let identity = identities[item.name] ?? InstanceIdentity()
            guard let existing = try existingInstance(named: item.name) else {
                items.append(.creating(item))
                continue
            }
            items.append(
                .init(
                    name: item.name, change: .unchanged,
                    details: try differences(existing, item, identity: identity)))
            if !items[items.count - 1].details.isEmpty { items[items.count - 1].change = .change }
        }
        if prune {
            let listed = Set(state.instances.map(\.name))
            for instance in try instances() where !listed.contains(instance.name) {
                items.append(.init(name: instance.name, change: .delete, details: []))
            }
        }
        return ApplyPlan(items: items)
    }

    /// What `apply` would change in an existing instance, as `applyOne` changes it.
    private func differences(_ existing: Instance, _ item: DesiredState.Instance, identity: InstanceIdentity) throws -> [String] {
        var details: [String] = []
        let type = item.type ?? .container
        if existing.type != type { details.append("type \(existing.type.rawValue) -> \(type.rawValue)") }
        if existing.rootUID != item.rootUID ?? 0 { details.append("root_uid \(existing.rootUID) -> \(item.rootUID ?? 0)") }
        if existing.identity != identity { details.append("identity \(Self.describe(existing.identity)) -> \(Self.describe(identity))") }
        if case let wanted = item.owner.applied(to: existing.container), wanted != existing.container {
            details.append("container \(existing.container?.description ?? "none") -> \(wanted?.description ?? "none")")
        }
        let config = Dictionary(try self.config(instanceID: existing.id).map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        let wanted = item.config ?? [:]
        for (key, value) in wanted.sorted(by: { $0.key < $1.key }) where config[key] != value {
            details.append("set \(key)")
        }
        for key in config.keys.sorted() where wanted[key] == nil && !key.hasPrefix("volatile.") {
            details.append("remove \(key)")
        }
        let devices = try self.devices(instanceID: existing.id)
        let wantedDevices = item.devices ?? [:]
        for (name, settings) in wantedDevices.sorted(by: { $0.key < $1.key }) where devices[name] != settings {
            details.append(devices[name] == nil ? "add device \(name)" : "change device \(name)")
        }
        for name in devices.keys.sorted() where wantedDevices[name] == nil {
            details.append("remove device \(name)")
        }
        return details
    }

    private static func describe(_ identity: InstanceIdentity) -> String {
        let parts = [identity.initPID.map { "pid \($0)" }, identity.cgroup.map { "cgroup \($0)" }].compactMap { $0 }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }
}
