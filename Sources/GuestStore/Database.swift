import CSQLite
import Foundation

/// One SQLite connection, the sole owner of its handle.
///
/// Not Sendable: a connection and its statements are used from one thread at a time.
/// The daemon gives each event loop thread its own; the CLI has exactly one.
public final class Database {
    let handle: OpaquePointer
    public let path: String
    private var statements: [String: Statement] = [:]

    public init(path: String, readOnly: Bool = false) throws {
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let error = SQLiteError(code: rc, handle: db)
            sqlite3_close_v2(db)  // a failed open still allocates a handle
            throw error
        }
        self.handle = db
        self.path = path
        sqlite3_busy_timeout(db, 5_000)
        SQLFunctions.register(on: db)
        try execute("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL")
    }

    deinit {
        statements.removeAll()  // finalize before close
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw SQLiteError(code: rc, handle: handle, sql: sql) }
    }

    /// A prepared statement for `sql`, compiled once per connection and reused.
    public func statement(_ sql: String) throws -> Statement {
        if let cached = statements[sql] { return cached }
        let statement = try Statement(database: self, sql: sql)
        statements[sql] = statement
        return statement
    }

    /// The integer in the first column of the first row.
    public func integer(_ sql: String, _ values: SQLValue...) throws -> Int? {
        let s = try statement(sql)
        try s.bind(values)
        defer { sqlite3_reset(s.handle) }
        return try s.step() ? Row(handle: s.handle).optionalInt(0) : nil
    }

    /// Runs `body` in one write transaction: all of it commits, or none of it.
    public func write<T>(_ body: () throws -> T) throws -> T {
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
    public func read<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN DEFERRED")
        defer { try? execute("COMMIT") }
        return try body()
    }

    /// Bumped whenever another connection commits: the way to notice other processes' writes.
    public func dataVersion() throws -> Int {
        try integer("PRAGMA data_version") ?? 0
    }

    public var changes: Int { Int(sqlite3_changes64(handle)) }
}
