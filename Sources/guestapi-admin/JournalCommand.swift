import ArgumentParser
import Foundation
import GuestJSON
import GuestStore

struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Read or prune the change journal.",
        discussion: """
            With no subcommand, `show`: guestapi-admin journal [show] [--instance <name>] [--since <id>] \
            [--type <kinds>] [--limit <n>] [--follow] [--json] (see `journal show --help`).
            """,
        subcommands: [Show.self, Prune.self], defaultSubcommand: Show.self)

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print journal entries, oldest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this instance (default: all).") var instance: String?
        // `.unconditional`: `--limit -1` is a value (then refused), not a missing one and a flag.
        @Option(parsing: .unconditional, help: "Only entries after this id.") var since: Int?
        @Option(help: "Only these kinds: config, device, lifecycle (comma list).") var type: String?
        @Option(parsing: .unconditional, help: "At most this many: the first after --since, else the newest.") var limit: Int?
        @Flag(help: "Keep printing new entries as they are committed.") var follow = false
        @Flag(help: "One JSON object per line (same as --format json).") var json = false

        func validate() throws {
            if let limit, limit < 0 { throw ValidationError("--limit must not be negative") }
            if let since, since < 0 { throw ValidationError("--since must not be negative") }
            if let type {
                for kind in type.split(separator: ",") where JournalEntry.Kind(rawValue: String(kind)) == nil {
                    throw ValidationError("unknown journal type \(kind): use config, device or lifecycle")
                }
            }
        }

        func run() throws {
            try global.withStore(.read) { store in
                var query = JournalQuery(after: since, limit: limit)
                query.instanceID = try instance.map { try store.instance(named: $0).id }
                query.kinds = type.map { Set($0.split(separator: ",").compactMap { JournalEntry.Kind(rawValue: String($0)) }) }
                let asJSON = json || global.format == .json
                // Commits from now on wake the follower, and come after `head`: none between this
                // read and the wait is missed.
                let follower = CommitFollower(store: store, pollMilliseconds: 20)
                if follow { try follower.skipToNow() }
                let head = follow ? try store.lastJournalID() : 0
                var entries = try store.journal(query)
                if !asJSON && !follow { return Output.table(Self.header, entries.map(row)) }
                // Followed, rows come as they are committed: the header once, and columns as wide
                // as the first rows made them (a wider cell pushes the rest of its row along).
                let widths = Output.widths(Self.header, entries.map(row))
                if !asJSON { Output.line(Output.padded(Self.header, widths)) }
                while true {
                    for entry in entries {
                        if asJSON {
                            print(entry)
                        } else {
                            Output.line(Output.padded(row(entry), widths))
                        }
                    }
                    guard follow else { return }
                    query.after = entries.last?.id ?? max(query.after ?? 0, head)
                    query.limit = nil
                    repeat {
                        try follower.waitForCommit()
                        entries = try store.journal(query)
                    } while entries.isEmpty
                }
            }
        }

        static let header = ["ID", "TIME", "INSTANCE", "TYPE", "NAME", "ACTION", "OLD", "VALUE"]

        private func print(_ entry: JournalEntry) {
            var writer = JSONWriter()
            entry.writeRecord(into: &writer)
            Output.write(writer.bytes)
        }

        private func row(_ entry: JournalEntry) -> [String] {
            let value = entry.kind == .lifecycle ? "" : Output.cell(entry.value)
            return [
                String(entry.id), Output.time(entry.timestampNs), entry.instance, entry.kind.rawValue,
                entry.name ?? "", entry.action ?? "", Output.cell(entry.oldValue), value,
            ]
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "prune", abstract: "Delete the oldest entries.")
        @OptionGroup var global: GlobalOptions
        @Option(parsing: .unconditional, help: "Keep the newest N entries.") var keep: Int?
        @Option(help: "Delete entries older than this: 90s, 30m, 24h, 7d.") var olderThan: String?

        func validate() throws {
            if (keep == nil) == (olderThan == nil) { throw ValidationError("give --keep N or --older-than DURATION") }
            if let keep, keep < 0 { throw ValidationError("--keep must not be negative") }
            if let olderThan, Age.nanoseconds(olderThan) == nil {
                throw ValidationError(
                    "bad duration \(olderThan): a whole number and s, m, h or d (e.g. 90s, 30m, 24h, 7d), at most 106751d")
            }
        }

        func run() throws {
            try global.withStore { store in
                let rule: Store.PruneRule = keep.map { .keep($0) } ?? .olderThan(nanoseconds: Age.nanoseconds(olderThan!)!)
                let deleted = try store.pruneJournal(rule)
                if global.format == .json { return Output.json(["deleted": deleted]) }
                Output.line("pruned \(deleted) journal entries")
            }
        }

    }
}
