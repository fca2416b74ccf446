import Foundation
@testable import GuestStore  // for a Migrator of the first migration alone
import Testing

/// Migration 2 rebuilds the journal (a CHECK without an IN list) and remakes its triggers:
/// nothing journaled may change, and everything must be journaled as before.
@Suite("migration 2: the journal rebuilt")
struct JournalRebuildMigrationTests {
    func journal(_ db: Database) throws -> [String] {
        try db.statement("SELECT quote(id), quote(ts_ns), instance_id, instance, kind, quote(name), quote(action), quote(old_value), quote(value) FROM journal ORDER BY id")
            .map { row in (0..<9).map { row.text(Int32($0)) }.joined(separator: "|") }
    }

    func sequence(_ db: Database) throws -> Int? {
        try db.integer("SELECT seq FROM sqlite_sequence WHERE name = 'journal'")
    }

    /// A version-1 database with one instance, some changes, and the oldest entries pruned.
    func versionOne(_ path: String) throws -> Database {
        let db = try Database(path: path)
        try Migrator(migrations: Array(Migrator.standard.migrations.prefix(1))).migrate(db)
        try db.write {
            try db.execute("INSERT INTO instances (name, created_ns) VALUES ('c1', 1)")
            try db.execute("INSERT INTO config (instance_id, key, value) VALUES (1, 'user.a', '1'), (1, 'user.b', x'00ff')")
            try db.execute("UPDATE config SET value = '2' WHERE key = 'user.a'")
            try db.execute("INSERT INTO devices (instance_id, name, config) VALUES (1, 'eth0', '{\"type\":\"nic\"}')")
            try db.execute("DELETE FROM journal WHERE id <= 2")
        }
        return db
    }

    @Test func keepsEveryEntryAndTheSequence() throws {
        let folder = try TemporaryDirectory()
        let db = try versionOne(folder.file("guestapi.db"))
        let before = try journal(db)
        let sequence = try sequence(db)
        #expect(before.count > 3)

        try Migrator.standard.migrate(db)

        #expect(try journal(db) == before)
        #expect(try self.sequence(db) == sequence)
        #expect(try db.integer("PRAGMA user_version") == Migrator.standard.latestVersion)
    }

    @Test func continuesTheSequenceOfAFullyPrunedJournal() throws {
        let folder = try TemporaryDirectory()
        let db = try versionOne(folder.file("guestapi.db"))
        try db.execute("DELETE FROM journal")
        let sequence = try #require(try sequence(db))

        try Migrator.standard.migrate(db)
        try db.execute("INSERT INTO config (instance_id, key, value) VALUES (1, 'user.c', '3')")

        #expect(try db.integer("SELECT min(id) FROM journal") == sequence + 1)
    }

    @Test func journalsAsBefore() throws {
        let folder = try TemporaryDirectory()
        _ = try versionOne(folder.file("guestapi.db"))
        let store = try folder.store()
        let instanceID = try store.instance(named: "c1").id
        let last = try store.lastJournalID()
        let cloudInitID = try store.configValue(instanceID: instanceID, key: "volatile.cloud-init.instance-id")

        try store.setConfig(instance: "c1", key: "user.user-data", value: Array("#cloud-config".utf8))
        try store.unsetConfig(instance: "c1", key: "user.a")
        try store.removeDevice(instance: "c1", device: "eth0")
        try store.setReady(instanceID: instanceID, true)

        let entries = try store.journal(JournalQuery(after: last))
        // The two entries of the first change come in the order SQLite fires triggers.
        #expect(entries.count == 5)
        #expect(Set(entries.map { $0.name ?? $0.action ?? "" }) == [
            "user.user-data", "volatile.cloud-init.instance-id", "user.a", "eth0", "instance-ready",
        ])
        #expect(try store.configValue(instanceID: instanceID, key: "volatile.cloud-init.instance-id") != cloudInitID)
        #expect(throws: SQLiteError.self) {
            try store.db.execute("INSERT INTO journal (ts_ns, instance_id, instance, kind) VALUES (1, 1, 'c1', 'other')")
        }
    }
}
