import Foundation
import Testing

@testable import GuestStore

@Suite("guestapi-admin journal", .timeLimit(.minutes(3)))
struct AdminJournalTests {
    /// Two instances with config, device and lifecycle entries interleaved; returns the whole journal.
    func makeHistory(_ cli: AdminCLI) throws -> [JournalRecord] {
        try cli.succeed("instance", "create", "c1")
        try cli.succeed("instance", "create", "c2")
        try cli.succeed("set", "user.a", "1", "--instance", "c1")
        try cli.succeed("device", "add", "d", "disk", "path=/x", "--instance", "c2")
        try cli.succeed("set", "user.b", "2", "--instance", "c1")
        try cli.succeed("set", "user.c", "3", "--instance", "c2")
        let all = try cli.journal()
        try #require(all.count == 8, "2 instances × (created, instance-id) and 4 changes: \(all)")
        try #require(all.map(\.id) == Array(1...8), "ids are gap-free from 1")
        return all
    }

    /// `--follow` prints what was there, then each entry other processes commit, in order,
    /// once each: its follower wakes on commits, not on a clock.
    @Test func followPrintsEveryLaterEntryOnce() throws {
        let cli = try AdminCLI()
        let all = try makeHistory(cli)
        let follower = try Command(Binaries.admin, ["journal", "--follow", "--json", "--instance", "c1"] + cli.state.arguments).start()
        defer { follower.signal(SIGKILL) }
        func printed() -> [JournalRecord] {
            String(decoding: follower.stdoutSoFar, as: UTF8.self).split(separator: "\n")
                .compactMap { try? JSONDecoder().decode(JournalRecord.self, from: Data($0.utf8)) }
        }
        let before = all.filter { $0.instance == "c1" }
        func waitFor(_ count: Int) throws {
            let deadline = Date().addingTimeInterval(20)
            while printed().count < count {
                try #require(Date() < deadline, "\(printed().count) of \(count) entries printed: \(follower.stderrSoFar)")
                usleep(10_000)
            }
        }
        try waitFor(before.count)

        for value in 1...3 { try cli.succeed("set", "user.follow", String(value), "--instance", "c1") }
        try cli.succeed("set", "user.other", "x", "--instance", "c2")
        try cli.succeed("set", "user.follow", "4", "--instance", "c1")
        try waitFor(before.count + 4)

        let later = try cli.journal("--instance", "c1").filter { $0.id > before.last!.id }
        #expect(later.map(\.key) == Array(repeating: "user.follow", count: 4))
        #expect(printed() == before + later)
    }

    @Test func instanceKeepsOnlyThatInstance() throws {
        let cli = try AdminCLI()
        let all = try makeHistory(cli)
        #expect(try cli.journal("--instance", "c1") == all.filter { $0.instance == "c1" })
    }

    @Test func sinceKeepsLaterIDs() throws {
        let cli = try AdminCLI()
        let all = try makeHistory(cli)
        #expect(try cli.journal("--since", "4") == all.filter { $0.id > 4 })
    }

    @Test(arguments: ["device", "config,device", "lifecycle"])
    func typeKeepsThoseKinds(types: String) throws {
        let cli = try AdminCLI()
        let all = try makeHistory(cli)
        let kinds = Set(types.split(separator: ",").map(String.init))
        let expected = all.filter { kinds.contains($0.type) }
        #expect(!expected.isEmpty)
        #expect(try cli.journal("--type", types) == expected)
    }

    @Test func limitKeepsTheNewestOrTheFirstAfterSince() throws {
        let cli = try AdminCLI()
        let all = try makeHistory(cli)
        #expect(try cli.journal("--limit", "2") == Array(all.suffix(2)))
        #expect(try cli.journal("--since", "2", "--limit", "2") == Array(all.dropFirst(2).prefix(2)))
    }

    @Test func tableHasOneRowPerEntry() throws {
        let cli = try AdminCLI()
        let all = try makeHistory(cli)
        let lines = try cli.succeed("journal").split(separator: "\n")
        #expect(lines.first?.hasPrefix("ID") == true)
        #expect(lines.dropFirst().map { Int($0.prefix(while: { $0 != " " })) } == all.map(\.id))
    }

    @Test func pruneKeepLeavesTheNewestAndIDsGoOn() throws {
        let cli = try AdminCLI()
        let all = try makeHistory(cli)

        let printed = try cli.succeed("journal", "prune", "--keep", "3")

        #expect(printed == "pruned \(all.count - 3) journal entries\n")
        #expect(try cli.journal() == Array(all.suffix(3)))
        try cli.succeed("set", "user.d", "4", "--instance", "c1")
        #expect(try cli.journal().last?.id == all.count + 1)
    }

    @Test func pruneOlderThanDeletesOnlyOldEntries() throws {
        let cli = try AdminCLI()
        let all = try makeHistory(cli)
        // Age the first four entries by two hours, as if written then.
        try Database(path: cli.state.database).execute("UPDATE journal SET ts_ns = ts_ns - 7200000000000 WHERE id <= 4")

        try cli.succeed("journal", "prune", "--older-than", "3h")
        #expect(try cli.journal().map(\.id) == all.map(\.id))
        try cli.succeed("journal", "prune", "--older-than", "1h")
        #expect(try cli.journal().map(\.id) == all.map(\.id).filter { $0 > 4 })
    }
}
