import Foundation
import Testing

@testable import GuestStore  // for a Migration made by the test

@Suite("migrations")
struct MigrationTests {
    /// The schema as SQLite records it, one line per object.
    func schema(_ db: Database) throws -> [String] {
        try db.statement("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").map {
            [$0.text(0), $0.text(1), $0.text(2), $0.optionalText(3) ?? "NULL"].joined(separator: "|")
        }
    }

    func appliedVersions(_ db: Database) throws -> [String] {
        try db.statement("SELECT version, name, applied_ns FROM schema_migrations ORDER BY version").map {
            "\($0.int(0)) \($0.text(1)) \($0.int(2))"
        }
    }

    /// Applies the first 1, 2, … n migrations in turn, on a new connection each time.
    func migrateStepByStep(_ path: String, _ migrations: [Migration]) throws {
        for count in 1...migrations.count {
            let db = try Database(path: path)
            try Migrator(migrations: Array(migrations.prefix(count))).migrate(db)
            #expect(try db.integer("PRAGMA user_version") == count)
        }
    }

    @Test func stepByStepEqualsAFreshDatabase() throws {
        let folder = try TemporaryDirectory()
        let fresh = try folder.store("fresh.db")
        try migrateStepByStep(folder.file("stepped.db"), Migrator.standard.migrations)

        let stepped = try Database(path: folder.file("stepped.db"))
        #expect(try schema(stepped) == (try schema(fresh.db)))
        #expect(
            try stepped.statement("SELECT version FROM schema_migrations ORDER BY version").map { $0.int(0) }
                == Array(1...Migrator.standard.latestVersion))
    }

    /// With a step added after the shipped ones: an older database gets only the missing step.
    @Test func anOlderDatabaseGetsOnlyTheMissingSteps() throws {
        let folder = try TemporaryDirectory()
        let next = Migration(
            version: Migrator.standard.latestVersion + 1, name: "test-extra",
            sql: "CREATE TABLE test_extra (id INTEGER PRIMARY KEY); CREATE INDEX test_extra_by_id ON test_extra (id);")
        let all = Migrator.standard.migrations + [next]
        try migrateStepByStep(folder.file("stepped.db"), all)
        let atOnce = try Database(path: folder.file("at-once.db"))
        try Migrator(migrations: all).migrate(atOnce)

        let stepped = try Database(path: folder.file("stepped.db"))
        #expect(try schema(stepped) == (try schema(atOnce)))
        #expect(try schema(stepped).contains { $0.hasPrefix("index|test_extra_by_id|") })
        #expect(try stepped.statement("SELECT name FROM schema_migrations ORDER BY version").map { $0.text(0) }.last == "test-extra")
    }

    @Test func reopeningAnUpToDateDatabaseChangesNothing() throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("guestapi.db")
        _ = try folder.storeWithInstance()
        let bytes = FileManager.default.contents(atPath: path)
        let observer = try Database(path: path)
        let version = try observer.dataVersion()
        let applied = try appliedVersions(observer)

        _ = try Store(path: path, imagesDirectory: folder.file("images"))

        #expect(try observer.dataVersion() == version, "another connection committed")
        #expect(try appliedVersions(observer) == applied)
        #expect(try observer.integer("PRAGMA user_version") == Migrator.standard.latestVersion)
        #expect(FileManager.default.contents(atPath: path) == bytes)
    }

    @Test(arguments: [false, true])
    func aNewerSchemaIsRefused(readOnly: Bool) throws {
        let folder = try TemporaryDirectory()
        _ = try folder.store()
        try Database(path: folder.file("guestapi.db")).execute("PRAGMA user_version = 99")

        let error = #expect(throws: StoreError.self) {
            _ = try Store(path: folder.file("guestapi.db"), imagesDirectory: folder.file("images"), readOnly: readOnly)
        }

        guard case .newerSchema(let found, let supported) = error else {
            Issue.record("expected newerSchema, got \(String(describing: error))")
            return
        }
        #expect(found == 99 && supported == Migrator.standard.latestVersion)
        #expect(try Database(path: folder.file("guestapi.db")).integer("PRAGMA user_version") == 99)
    }
}
