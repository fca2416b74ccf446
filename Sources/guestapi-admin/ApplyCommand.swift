import ArgumentParser
import Foundation
import GuestStore

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Make instances exactly as a JSON file describes, in one transaction.",
        discussion: "The file is {\"instances\": [...]}, as `export` writes it, or one instance as `instance show --format json` prints it."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The desired state, '-' for standard input.") var file: String
    @Flag(help: "Also delete instances the file does not list.") var prune = false
    @Flag(help: "Print what would change, and change nothing.") var dryRun = false

    func run() throws {
        guard !dryRun else {
            // Reads what is there (nothing, if there is no state yet) and makes nothing.
            return try global.withStoreIfAny { store in
                let state = try readState()
                let identities = try Self.identities(state, store: store)
                let plan =
                    try store?.plan(state, identities: identities, prune: prune)
                    ?? Store.ApplyPlan.creating(state)
                Self.print(plan, format: global.format)
            }
        }
        try global.withStore(.create) { store in
            let state = try readState()
            let summary = try store.apply(state, identities: try Self.identities(state, store: store), prune: prune)
            if global.format == .json {
                return Output.json([
                    "created": summary.created, "updated": summary.updated, "deleted": summary.deleted, "unchanged": summary.unchanged,
                ])
            }
            Output.line(
                "created \(summary.created), updated \(summary.updated), deleted \(summary.deleted), unchanged \(summary.unchanged)")
        }
    }

    private func readState() throws -> DesiredState {
        try DesiredState(json: try Input.read(file))
    }

    /// Each listed instance's identity. One whose pid (and start time, when given) and cgroup
    /// are the ones recorded keeps its identity as it is: exporting and applying an instance
    /// whose init has stopped changes nothing. Others are registered from /proc now.
    static func identities(_ state: DesiredState, store: Store?) throws -> [String: InstanceIdentity] {
        var identities: [String: InstanceIdentity] = [:]
        for item in state.instances where item.pid != nil || item.cgroup != nil {
            if let existing = try store?.existingInstance(named: item.name)?.identity, existing.initPID == item.pid,
                item.pidStartTime == nil || item.pidStartTime == existing.initStartTime,
                existing.cgroup == (try Registration.identity(pid: nil, cgroup: item.cgroup)).cgroup
            {
                identities[item.name] = existing
            } else {
                identities[item.name] = try Registration.identity(pid: item.pid, cgroup: item.cgroup)
            }
        }
        return identities
    }

    static func print(_ plan: Store.ApplyPlan, format: GlobalOptions.Format) {
        if format == .json {
            struct Item: Encodable {
                var name: String
                var change: String
                var details: [String]
            }
            struct Plan: Encodable {
                var instances: [Item]
                var summary: [String: Int]
            }
            let summary = plan.summary
            return Output.json(
                Plan(
                    instances: plan.items.map { Item(name: $0.name, change: $0.change.rawValue, details: $0.details) },
                    summary: [
                        "create": summary.created, "change": summary.updated, "delete": summary.deleted, "unchanged": summary.unchanged,
                    ]))
        }
        for item in plan.items where item.change != .unchanged {
            Output.line("\(item.change.rawValue) \(item.name)" + (item.details.isEmpty ? "" : ": " + item.details.joined(separator: ", ")))
        }
        let summary = plan.summary
        Output.line("would create \(summary.created), change \(summary.updated), delete \(summary.deleted); \(summary.unchanged) unchanged")
    }
}
