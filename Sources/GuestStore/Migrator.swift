import GuestMigrations

/// One numbered schema step, applied in its own transaction and recorded.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String
}

/// Brings a database up to the schema this build knows; refuses a newer one.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    public static let standard = Migrator(
        migrations: schemaMigrations.map { Migration(version: $0.version, name: $0.name, sql: String(decoding: $0.sql, as: UTF8.self)) }
    )

    public init(migrations: [Migration]) {
        precondition(migrations.map(\.version) == Array(1...migrations.count), "migrations must be numbered 1...n")
        self.migrations = migrations
    }

    public var latestVersion: Int { migrations.count }

    func migrate(_ db: Database) throws {
        let current = try db.integer("PRAGMA user_version") ?? 0
        if current > latestVersion { throw StoreError.newerSchema(found: current, supported: latestVersion) }
        if current == latestVersion { return }
        let objects = try db.integer("SELECT count(*) FROM sqlite_master WHERE name != 'schema_migrations'") ?? 0
        // Another program's database: adding guestapi's tables to it would change what is not ours.
        if current == 0 && objects > 0 { throw StoreError.notGuestapiDatabase(db.path) }
        if objects == 0 {
            // WAL lets the daemon read while the CLI writes; it is persistent, so set it once.
            try db.execute("PRAGMA journal_mode = WAL")
        }
        // Foreign keys off while a step runs (SQLite ignores the pragma inside a transaction):
        // rebuilding a table drops the old one, which would cascade to the rows referring to
        // it. Each step is checked before it commits instead (GRDB's deferred checks).
        try db.execute("PRAGMA foreign_keys = OFF")
        defer { try? db.execute("PRAGMA foreign_keys = ON") }
        for migration in migrations where migration.version > current {
            try db.write {
                // Another process may have migrated while we waited for the write lock.
                guard try db.integer("PRAGMA user_version") ?? 0 < migration.version else { return }
                try db.execute(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ns INTEGER NOT NULL)
                    """)
                try db.execute(migration.sql)
                if let violation = try db.statement("PRAGMA foreign_key_check").first(transform: { $0.text(0) }) {
                    throw StoreError.io(
                        "migration \(migration.version) (\(migration.name)) would break a reference from table \(violation)")
                }
                try db.statement("INSERT INTO schema_migrations VALUES (?, ?, guestapi_now_ns())")
                    .run(.int(migration.version), .text(migration.name))
                try db.execute("PRAGMA user_version = \(migration.version)")
            }
        }
    }
}
