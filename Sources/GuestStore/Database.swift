import CSQLite
import Foundation

/// One SQLite connection, the sole owner of its handle.
///
/// The daemon gives each event loop thread its own; the CLI has exactly one.
final class Database {
    let handle: OpaquePointer
    let path: String
    private var statements: [SQLKey: Statement] = [:]
    private var byAddress: [(text: UnsafeRawPointer, statement: Statement)] = []

    init(path: String, readOnly: Bool = false) throws {
        var db: OpaquePointer?
        let flags =
            (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let error = SQLiteError(code: rc, handle: db)
            sqlite3_close_v2(db)  // a failed open still allocates a handle
            throw error
        }
        self.handle = db
        self.path = path
        // Waiting for another writer: SQLite's own busy timeout sleeps 1, 2, 5 … then 100 ms
        // between tries, so under many writers (a container runtime starting 50 containers,
        // each hook a writer) a few wait far longer than the rest. Short even steps, up to 5 s.
        sqlite3_busy_handler(
            db,
            { _, tries in
                guard tries < Database.busyTries else { return 0 }
                usleep(Database.busyStep)
                return 1
            }, nil)
        SQLFunctions.register(on: db)
        // Before the first read, which would take page 1 from a WAL left beside it by another file.
        guard try fileHasSQLiteHeader() else { throw SQLiteError(code: SQLITE_NOTADB, handle: nil) }
        // temp_store: statement journals stay in memory. Every write here runs triggers, so
        // each statement keeps one; once one outgrew 64 KiB, SQLite put all the rest of the
        // transaction's in a temp file, a write(2) per page (a bulk apply made millions).
        try execute("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY")
    }

    /// The busy handler's step and tries: 2 ms, up to 5 s.
    static let busyStep: UInt32 = 2_000
    static let busyTries: Int32 = 2_500

    deinit {
        byAddress.removeAll()
        statements.removeAll()  // finalize before close
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw SQLiteError(code: rc, handle: handle, sql: sql) }
    }

    /// A prepared statement for `sql`, compiled once per connection and reused.
    ///
    /// Statements are looked up on every call, several times a request, and nearly always
    /// with the same literal, whose text never moves: so first by the text's address (the
    /// match confirmed by content, since a freed string's address can be reused), and only
    /// then by hashing the text.
    func statement(_ sql: String) throws -> Statement {
        let address = sql.utf8.withContiguousStorageIfAvailable { UnsafeRawPointer($0.baseAddress) } ?? nil
        if let address {
            for entry in byAddress where entry.text == address && entry.statement.sql == sql { return entry.statement }
        }
        let statement: Statement
        if let cached = statements[SQLKey(sql)] {
            statement = cached
        } else {
            statement = try Statement(database: self, sql: sql)
            statements[SQLKey(sql)] = statement
        }
        // Only a string that owns its storage has a lasting address (a small one is copied).
        if let address, sql.utf8.count > 15, byAddress.count < 64 { byAddress.append((address, statement)) }
        return statement
    }

    /// A statement cache key that hashes the SQL's length and its first and last bytes, not
    /// all of it: statements are looked up on every call, their text runs to hundreds of
    /// bytes, and most calls pass the same constant, for which `==` is O(1).
    private struct SQLKey: Hashable {
        let sql: String
        init(_ sql: String) { self.sql = sql }

        func hash(into hasher: inout Hasher) {
            let hashed: Void? = sql.utf8.withContiguousStorageIfAvailable { text in
                hasher.combine(text.count)
                hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: text.prefix(24))))
                hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: text.suffix(24))))
            }
            if hashed == nil { hasher.combine(sql) }
        }
    }

    /// The integer in the first column of the first row.
    func integer(_ sql: String, _ values: SQLValue...) throws -> Int? {
        let s = try statement(sql)
        try s.bind(values)
        defer { s.reset() }
        return try s.step() ? Row(handle: s.handle).optionalInt(0) : nil
    }

    /// Runs `body` in one write transaction: all of it commits, or none of it.
    func write<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` in one read transaction, so every query sees the same snapshot.
    func read<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN DEFERRED")
        defer { try? execute("COMMIT") }
        return try body()
    }

    /// An open blob of a row, read at any offset in place (incremental blob I/O): SQLite keeps
    /// the list of its overflow pages while it is open, so each read costs only the pages that
    /// hold its bytes. It holds its transaction's snapshot while it is open.
    final class Blob {
        private let handle: OpaquePointer
        private let database: Database

        fileprivate init(handle: OpaquePointer, database: Database) {
            self.handle = handle
            self.database = database
        }

        deinit { sqlite3_blob_close(handle) }

        func read(offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
            guard let start = buffer.baseAddress, !buffer.isEmpty else { return }
            let rc = sqlite3_blob_read(handle, start, Int32(buffer.count), Int32(offset))
            guard rc == SQLITE_OK else { throw SQLiteError(code: rc, handle: database.handle) }
        }
    }

    func openBlob(table: String, column: String, row: Int) throws -> Blob {
        var blob: OpaquePointer?
        let rc = sqlite3_blob_open(handle, "main", table, column, Int64(row), 0, &blob)
        guard rc == SQLITE_OK, let blob else {
            sqlite3_blob_close(blob)
            throw SQLiteError(code: rc, handle: handle)
        }
        return Blob(handle: blob, database: self)
    }

    /// Bumped whenever another connection commits: the way to notice other processes' writes.
    func dataVersion() throws -> Int {
        try integer("PRAGMA data_version") ?? 0
    }

    var changes: Int { Int(sqlite3_changes64(handle)) }

    /// Rows changed since the connection opened, by triggers too: compared before and after
    /// a step, it says whether the step changed anything.
    var totalChanges: Int { Int(sqlite3_total_changes64(handle)) }
}

/// A connection and its statements are used from one thread at a time.
@available(*, unavailable)
extension Database: Sendable {}
