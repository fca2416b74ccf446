import GuestRoutes
import GuestStore
import NIOConcurrencyHelpers
import NIOCore

/// The requests held until their answer changes (`wait_for_change`, README, "Watching for
/// changes"), by instance: the journal tailer tells each one whose answer a committed change
/// may have altered, on its own loop; the connection reads the answer again and answers if its
/// tag moved. A change that cannot alter a held answer (another key, another instance) wakes
/// nothing. Sendable: the registry is behind a lock.
final class HeldRequests: Sendable {
    /// What a held answer is made of.
    enum Resource: Equatable, Sendable {
        case info, configList
        case configKey(String)
        case devices, metaData

        init?(_ route: Route) {
            switch route {
            case .info: self = .info
            case .config: self = .configList
            case .configKey(let key): self = .configKey(key)
            case .devices: self = .devices
            case .metaData: self = .metaData
            case .root, .events, .imageExport, .identity: return nil
            }
        }

        /// Whether `entry` may alter this answer: a `security.*` key or a changed type or owner
        /// may alter any (they decide who may read what); Ready and a re-attach, the state in
        /// `/1.0`; else only what the answer shows. (A deletion or a stop ends the instance's
        /// connections, and their holds with them; a re-attach also has each connection check
        /// its caller.)
        func mayChange(with entry: JournalEntry) -> Bool {
            if entry.kind == .lifecycle {
                switch entry.action {
                case "instance-updated": return true
                case "instance-ready", "instance-attached": return self == .info
                default: return false
                }
            }
            let name = entry.name ?? ""
            if entry.kind == .config && name.utf8.starts(with: "security.".utf8) { return true }
            switch (self, entry.kind) {
            case (.configKey(let key), .config): return name == key
            case (.configList, .config): return name.utf8.starts(with: "user.".utf8) || name.utf8.starts(with: "cloud-init.".utf8)
            case (.metaData, .config): return name == "user.meta-data" || name == "volatile.cloud-init.instance-id"
            case (.devices, .config): return name.utf8.starts(with: "volatile.".utf8)
            case (.devices, .device): return true
            default: return false
            }
        }
    }

    /// Sent to a held request's connection: read the answer again.
    struct Check {}

    private struct Held {
        let channel: Channel
        let resource: Resource
    }

    private let held = NIOLockedValueBox<[Int: [ObjectIdentifier: Held]]>([:])

    /// Holds the request on `channel` (one at a time per connection) until `remove`.
    func add(_ channel: Channel, instanceID: Int, resource: Resource) {
        held.withLockedValue {
            $0[instanceID, default: [:]][ObjectIdentifier(channel)] = Held(channel: channel, resource: resource)
        }
    }

    func remove(_ channel: Channel, instanceID: Int) {
        held.withLockedValue { held in
            held[instanceID]?[ObjectIdentifier(channel)] = nil
            if held[instanceID]?.isEmpty == true { held[instanceID] = nil }
        }
    }

    /// Tells each held request whose answer one of `entries` may alter, once however many do
    /// (an `apply` of a thousand keys wakes a hold once, not a thousand times).
    func changed(_ entries: [JournalEntry]) {
        // The holds of the instances concerned, taken out of the lock: the loops that add and
        // remove holds never wait for a page of entries to be matched.
        let concerned = Set(entries.map(\.instanceID))
        let holds = held.withLockedValue { held in concerned.reduce(into: [Int: [ObjectIdentifier: Held]]()) { $0[$1] = held[$1] } }
        guard !holds.isEmpty else { return }
        var targets: [ObjectIdentifier: Channel] = [:]
        for entry in entries {
            for (id, hold) in holds[entry.instanceID] ?? [:] where targets[id] == nil && hold.resource.mayChange(with: entry) {
                targets[id] = hold.channel
            }
        }
        for channel in targets.values { channel.pipeline.fireUserInboundEventTriggered(Check()) }
    }

    /// Tells the held requests of the instance on `resource` (a change this daemon made itself).
    func changed(instanceID: Int, resource: Resource) {
        let targets = held.withLockedValue { $0[instanceID].map { $0.values.filter { $0.resource == resource }.map(\.channel) } ?? [] }
        for channel in targets { channel.pipeline.fireUserInboundEventTriggered(Check()) }
    }

    /// Tells every held request (the database file was replaced, or entries were pruned unseen).
    func changedAll() {
        let targets = held.withLockedValue { $0.values.flatMap { $0.values.map(\.channel) } }
        for channel in targets { channel.pipeline.fireUserInboundEventTriggered(Check()) }
    }

    /// Requests held now, all instances together.
    var count: Int { held.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }
}
