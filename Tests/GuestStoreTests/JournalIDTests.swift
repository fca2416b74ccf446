import Foundation
import Testing

@testable import GuestStore

@Suite("journal ids")
struct JournalIDTests {
    struct Abort: Error {}

    func ids(_ store: Store) throws -> [Int] { try store.journal(JournalQuery()).map(\.id) }

    func set(_ store: Store, _ key: String, _ value: String) throws {
        try store.setConfig(instance: "c1", key: key, value: Array(value.utf8))
    }

    @Test func aRolledBackTransactionLeavesNoGap() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.storeWithInstance()
        let before = try store.lastJournalID()

        // Journaled by the triggers, then rolled back.
        #expect(throws: Abort.self) {
            try store.db.write {
                try store.db.execute("INSERT INTO config (instance_id, key, value) SELECT id, 'user.x', '1' FROM instances")
                #expect(try store.db.integer("SELECT max(id) FROM journal") ?? 0 > before)
                throw Abort()
            }
        }
        #expect(try store.lastJournalID() == before)
        try set(store, "user.y", "1")

        let all = try ids(store)
        #expect(all == Array(1..<all.count + 1))
        #expect(all.last == before + 1)
    }

    @Test func aFailedApplyLeavesNoGap() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.storeWithInstance()
        _ = try store.createInstance(name: "owner", identity: InstanceIdentity(cgroup: "/taken"))
        let before = try store.lastJournalID()
        // "fresh" is created and journaled, then "thief" fails on a cgroup that is taken.
        let state = try DesiredState(
            json: Array(
                """
                {"instances":[{"name":"fresh","config":{"user.a":"1"}},{"name":"thief","cgroup":"/taken"}]}
                """.utf8))

        #expect(throws: StoreError.self) {
            _ = try store.apply(state, identities: ["thief": InstanceIdentity(cgroup: "/taken")], prune: false)
        }

        #expect(try store.lastJournalID() == before)
        #expect(try store.instances().map(\.name) == ["c1", "owner"])
        try set(store, "user.y", "1")
        let all = try ids(store)
        #expect(all == Array(1..<all.count + 1))
    }

    @Test func idsAreNeverReusedAfterPruningAll() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.storeWithInstance()
        try set(store, "user.a", "1")
        let last = try store.lastJournalID()

        #expect(try store.pruneJournal(.keep(0)) == last)

        let reopened = try folder.store()
        #expect(try ids(reopened).isEmpty)
        #expect(try reopened.lastJournalID() == last)
        #expect(try reopened.firstKeptJournalID() == last + 1)
        try reopened.setConfig(instance: "c1", key: "user.a", value: Array("2".utf8))
        #expect(try ids(reopened) == [last + 1])
    }

    @Test func replayNeedsEveryEntryAfterSince() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.storeWithInstance()
        for i in 1...5 { try set(store, "user.k\(i)", "v") }
        let last = try store.lastJournalID()
        try store.pruneJournal(.keep(3))
        let firstKept = last - 2
        #expect(try store.firstKeptJournalID() == firstKept)

        try store.checkReplayable(since: firstKept - 1)  // the kept boundary: nothing after it is missing
        try store.checkReplayable(since: last)
        for pruned in [firstKept - 2, 0] {
            let error = #expect(throws: StoreError.self) { try store.checkReplayable(since: pruned) }
            guard case .journalPruned(let since, let oldest) = error else {
                Issue.record("expected journalPruned, got \(String(describing: error))")
                continue
            }
            #expect(since == pruned && oldest == firstKept)
        }
    }
}
