import Foundation
import Testing

/// The stage of the event tests: instance `c1`, whose init is a real guest process, served by
/// a running daemon and changed by the admin CLI, a separate process, as an operator would.
///
/// Not Sendable: one test owns it.
final class EventsHarness {
    static let instance = "c1"

    let host: GuestHost
    let guest: Guest

    /// `createOptions` go to `instance create c1` (`--config k=v`).
    init(_ createOptions: String...) throws {
        host = try GuestHost()
        guest = try host.stranger()
        try host.register(Self.instance, pid: guest.process.shellPID, createOptions)
    }

    var cli: AdminCLI { host.cli }
    var daemon: Daemon { host.daemon }

    /// A subscriber inside `c1`'s guest, connected and answered.
    func subscribe(
        _ query: String = "", transport: EventSubscriber.Transport = .webSocket,
        holding: Bool = false
    ) throws -> EventSubscriber {
        try EventSubscriber(in: guest.process, socket: host.socket, query: query, transport: transport, holding: holding)
    }

    /// Runs `guestapi-admin ARGUMENTS --instance c1` (or `instance`), which must succeed.
    func admin(
        _ arguments: String..., instance: String = EventsHarness.instance,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        try cli.succeed(arguments + ["--instance", instance], sourceLocation: sourceLocation)
    }

    /// `guestapi-admin set KEY VALUE` once per pair, in order, from one shell loop: many
    /// separate commits by separate processes, without a round trip to the test for each.
    func setEach(_ pairs: [(key: String, value: String)], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let script = pairs.map { shellCommand(host.adminCommand("set", $0.key, $0.value, "--instance", Self.instance)) + " || exit 1" }
        let result = try Command("/bin/sh", ["-c", script.joined(separator: "\n")]).run(timeout: .seconds(120))
        try #require(result.status == 0, "a set failed: \(result.stderr)", sourceLocation: sourceLocation)
    }

    /// `guestapi-admin apply`: `c1` ends with exactly `config` (and no devices), in one transaction.
    func apply(config: [String: String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let instance: [String: Any] = ["name": Self.instance, "pid": Int(guest.process.shellPID), "config": config]
        let file = try JSONSerialization.data(withJSONObject: ["instances": [instance]])
        try cli.succeed(["apply", "-"], stdin: Array(file), sourceLocation: sourceLocation)
    }

    /// `c1`'s journal entries that a guest sees (`user.*` config, devices), oldest first.
    func guestVisibleJournal(sourceLocation: SourceLocation = #_sourceLocation) throws -> [JournalRecord] {
        try cli.journal("--instance", Self.instance, sourceLocation: sourceLocation).filter(\.isGuestVisible)
    }

    /// The ids alone of `guestVisibleJournal()`: decoded without the values, for long journals.
    func guestVisibleJournalIDs(sourceLocation: SourceLocation = #_sourceLocation) throws -> [Int] {
        struct Entry: Decodable {
            struct Metadata: Decodable { var key: String? }
            var id: Int
            var type: String
            var metadata: Metadata
        }
        let output = try cli.succeed("journal", "--json", "--instance", Self.instance, sourceLocation: sourceLocation)
        return try output.split(separator: "\n").map { try JSONDecoder().decode(Entry.self, from: Data($0.utf8)) }
            .filter { JournalRecord.isGuestVisible(type: $0.type, key: $0.metadata.key) }.map(\.id)
    }
}
