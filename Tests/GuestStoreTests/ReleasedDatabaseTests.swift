import Foundation
import Testing

@testable import GuestStore

/// A database written by the released schema (v0001), kept in `Fixtures/`: alpha and bravo,
/// bravo's devices, and charlie, the newest, created, changed and deleted. It has journal ids
/// 1…16, charlie's (id 3) among them.
@Suite("a database from the released schema")
struct ReleasedDatabaseTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/released-v0001.db").path

    /// A copy of the fixture, so that each test migrates its own.
    func copy(into folder: TemporaryDirectory) throws -> String {
        let path = folder.file("guestapi.db")
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: path)
        return path
    }

    func rows(_ db: Database, _ sql: String, columns: Int32) throws -> [String] {
        try db.statement(sql).map { row in (0..<columns).map { row.optionalText($0) ?? "NULL" }.joined(separator: "|") }
    }

    /// Every table's rows, in a fixed order, as text.
    func everything(_ path: String) throws -> [String: [String]] {
        let db = try Database(path: path, readOnly: true)
        return [
            "instances": try rows(
                db,
                "SELECT id, name, type, init_pid, init_start_time, pidns_inode, cgroup, root_uid, ready, generation, "
                    + "created_ns FROM instances ORDER BY id", columns: 11),
            "config": try rows(db, "SELECT instance_id, key, hex(value) FROM config ORDER BY instance_id, key", columns: 3),
            "devices": try rows(db, "SELECT instance_id, name, config FROM devices ORDER BY instance_id, name", columns: 3),
            "journal": try rows(
                db, "SELECT id, ts_ns, instance_id, instance, kind, name, action, hex(old_value), hex(value) FROM journal ORDER BY id",
                columns: 9),
        ]
    }

    @Test func migratingKeepsEveryRowAndJournalID() throws {
        let folder = try TemporaryDirectory()
        let path = try copy(into: folder)
        let before = try everything(path)
        try #require(before["instances"]?.count == 2 && before["journal"]?.count == 16)

        let store = try Store(path: path, imagesDirectory: folder.file("images"))

        #expect(try store.db.integer("PRAGMA user_version") == Migrator.standard.latestVersion)
        #expect(try everything(path) == before)
        #expect(try store.db.integer("PRAGMA foreign_key_check") == nil)
        // Every value has its digest, made from its bytes.
        let digests = try store.db.statement("SELECT c.value, d.digest FROM config c LEFT JOIN config_digests d ON d.config_id = c.id")
            .map { ($0.blob(0), $0.optionalBlob(1)) }
        #expect(!digests.isEmpty && digests.allSatisfy { ContentDigest($0.0).bytes == $0.1 })
        // The cascade still holds after the rebuild.
        try store.deleteInstance(name: "bravo")
        #expect(try store.db.integer("SELECT count(*) FROM devices") == 0)
        #expect(try store.db.integer("SELECT count(*) FROM config_digests") == store.db.integer("SELECT count(*) FROM config"))
    }

    /// A read (`instance list`, `export`) on an older guestapi's file, before anything wrote to
    /// it, reads this schema's columns: the file is migrated first.
    @Test func readingAnOlderFileMigratesItFirst() throws {
        let folder = try TemporaryDirectory()
        let path = try copy(into: folder)
        let before = try everything(path)

        let store = try Store(path: path, imagesDirectory: folder.file("images"), readOnly: true)

        #expect(try store.instances().map(\.name) == ["alpha", "bravo"])
        #expect(try everything(path) == before)
        #expect(try Database(path: path, readOnly: true).integer("PRAGMA user_version") == Migrator.standard.latestVersion)
    }

    @Test func idsNeverComeBackAfterMigrating() throws {
        let folder = try TemporaryDirectory()
        let store = try Store(path: try copy(into: folder), imagesDirectory: folder.file("images"))

        // charlie (3) is gone but its journal remains: no new instance may take its id.
        let delta = try store.createInstance(name: "delta")
        #expect(delta.id == 4)
        #expect(try store.journal(JournalQuery(instanceID: delta.id)).allSatisfy { $0.instance == "delta" })
        // The newest deleted and re-created: a new id every time.
        try store.deleteInstance(name: "delta")
        #expect(try store.createInstance(name: "delta").id == 5)
        try store.deleteInstance(name: "alpha")
        try store.deleteInstance(name: "bravo")
        try store.deleteInstance(name: "delta")
        #expect(try store.createInstance(name: "echo").id == 6)
        // Journal ids go on from the fixture's 16: create 2 entries, delete 1.
        #expect(try store.db.integer("SELECT max(id) FROM journal") == 16 + 2 + 1 + 2 + 1 + 1 + 1 + 2)
    }

    @Test func aNewDatabaseNeverReusesAnID() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.store()
        let first = try store.createInstance(name: "one")
        try store.deleteInstance(name: "one")
        #expect(try store.createInstance(name: "one").id == first.id + 1)
    }
}
