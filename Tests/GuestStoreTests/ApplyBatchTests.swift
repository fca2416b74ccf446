import Foundation
import GuestStore
import Testing

/// `apply` writes an instance's keys in multi-row statements of up to 500 rows.
@Suite("apply in batches")
struct ApplyBatchTests {
    func state(_ config: [String: String]) throws -> DesiredState {
        let json = try JSONSerialization.data(withJSONObject: ["instances": [["name": "c1", "config": config]]])
        return try DesiredState(json: Array(json))
    }

    @Test func manyKeysAreSetAndJournaledInKeyOrder() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.store()
        var config: [String: String] = [:]
        for i in 0..<1_234 { config[String(format: "user.k%05d", i)] = "v\(i)" }

        let summary = try store.apply(try state(config), identities: [:], prune: false)

        #expect(summary.created == 1)
        let id = try store.instance(named: "c1").id
        let stored = try store.config(instanceID: id).filter { $0.key.hasPrefix("user.") }
        #expect(stored.map(\.key) == config.keys.sorted())
        #expect(stored.allSatisfy { config[$0.key] == String(decoding: $0.value, as: UTF8.self) })
        let journaled = try store.journal(JournalQuery(kinds: [.config])).compactMap(\.name).filter { $0.hasPrefix("user.") }
        #expect(journaled == config.keys.sorted())
    }

    @Test func changingSomeKeysJournalsOnlyThose() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.store()
        var config: [String: String] = [:]
        for i in 0..<1_100 { config["user.k\(i)"] = "v" }
        _ = try store.apply(try state(config), identities: [:], prune: false)
        let last = try store.lastJournalID()

        config["user.k7"] = "changed"
        config["user.k1099"] = "changed"
        let summary = try store.apply(try state(config), identities: [:], prune: false)
        let again = try store.apply(try state(config), identities: [:], prune: false)

        #expect(summary.updated == 1 && again.unchanged == 1)
        #expect(try store.journal(JournalQuery(after: last)).compactMap(\.name) == ["user.k1099", "user.k7"])
    }
}
