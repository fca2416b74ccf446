import Foundation
import Testing

@testable import GuestStore

/// kill -9 of the daemon while the CLI commits and a guest follows the events (issue 6,
/// hardening item 5), the small version: 2 crashes during 100 changes. After each restart the
/// database passes `PRAGMA integrity_check` and holds every committed change, journaled once;
/// the subscriber, resuming with `since=<last id it saw>`, gets every change once, in order.
/// `tools/crash-test.sh` runs the long version (20 crashes, 2,000 changes, more subscribers).
@Suite("crash recovery", .timeLimit(.minutes(3)))
struct CrashRecoveryTests {
    static let changes = 100
    static let crashes = 2

    @Test func killedDaemonLosesAndRepeatsNothing() throws {
        let harness = try EventsHarness()
        // One process per change, as an operator runs them; "ok N" once change N committed.
        let script = (1...Self.changes).map { n in
            shellCommand(harness.host.adminCommand("set", "user.k\(n % 10)", "v\(n)", "--instance", EventsHarness.instance))
                + " && echo ok \(n) || exit 1"
        }
        let writer = try Command("/bin/sh", ["-c", script.joined(separator: "\n")]).start()
        var subscriber = try harness.subscribe("since=0")
        var received: [String] = []

        for crash in 1...Self.crashes {
            // Somewhere in the run, with changes still to come.
            let target = Self.changes * crash / (Self.crashes + 1) + Int.random(in: -5...5)
            while Self.committed(writer) < target && writer.isRunning { usleep(2_000) }
            usleep(UInt32.random(in: 0...30_000))
            try harness.daemon.crash()
            try subscriber.waitUntil("the end of the stream") { $0.closed != nil }
            received += subscriber.messages
            try harness.daemon.restart()

            #expect(try Self.integrityCheck(harness.cli.state.database) == ["ok"])
            let committed = Self.committed(writer)
            let journaled = try Self.journaledChanges(harness)
            #expect(Array(journaled.prefix(committed)) == Array(1...committed), "crash \(crash): each committed change once, in order")
            subscriber = try harness.subscribe("since=\(received.last.flatMap(GuestEvent.id) ?? 0)")
        }

        let result = try writer.wait(timeout: .seconds(120))
        try #require(result.status == 0, "a change failed: \(result.stderr)")
        #expect(try Self.journaledChanges(harness) == Array(1...Self.changes))
        let journal = try harness.guestVisibleJournalIDs()
        received += try subscriber.waitForMessages(journal.count - received.count)
        #expect(received.map(GuestEvent.id) == journal, "every event once, in order, across \(Self.crashes) crashes")
        #expect(try Self.integrityCheck(harness.cli.state.database) == ["ok"])
    }

    /// How many changes the writer has committed: each "ok N" line it printed.
    static func committed(_ writer: RunningCommand) -> Int {
        String(decoding: writer.stdoutSoFar, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("ok ") }.count
    }

    /// The change numbers N of the journal's `user.k*` = `vN` entries, in journal order.
    static func journaledChanges(_ harness: EventsHarness) throws -> [Int] {
        try harness.cli.journal("--instance", EventsHarness.instance, "--type", "config").compactMap { record in
            guard record.key?.hasPrefix("user.k") == true, let value = record.metadata["value"]?.string else { return nil }
            return Int(value.dropFirst())
        }
    }

    static func integrityCheck(_ path: String) throws -> [String] {
        try Database(path: path, readOnly: true).statement("PRAGMA integrity_check").map { $0.text(0) }
    }
}
