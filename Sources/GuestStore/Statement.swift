import CSQLite

/// A prepared statement, owned by one `Database`. Reset after every use so it never pins
/// a WAL snapshot, and its bindings cleared so it holds no copy of a value it was given.
final class Statement {
    let handle: OpaquePointer
    unowned let database: Database
    /// The SQL it was prepared from.
    let sql: String
    /// How many `?` it has: every use binds exactly that many values.
    private let parameterCount: Int

    init(database: Database, sql: String) throws {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(database.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            throw SQLiteError(code: rc, handle: database.handle, sql: sql)
        }
        self.handle = stmt
        self.database = database
        self.sql = sql
        parameterCount = Int(sqlite3_bind_parameter_count(stmt))
    }

    deinit { sqlite3_finalize(handle) }

    /// Binds `values` to parameters 1...n; every call binds them all, so none is left from
    /// an earlier use. (Every use ends with `reset()`: this reset costs nothing then.)
    func bind(_ values: [SQLValue]) throws {
        sqlite3_reset(handle)
        guard values.count == parameterCount else {
            throw SQLiteError(code: SQLITE_RANGE, message: "\(values.count) values for \(parameterCount) parameters", sql: sql)
        }
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .null:
                rc = sqlite3_bind_null(handle, index)
            case .integer(let v):
                rc = sqlite3_bind_int64(handle, index, v)
            case .text(var s):
                // With its length: a NUL inside is data, not the end, and no C copy is made first.
                rc = s.withUTF8 { text in
                    text.withMemoryRebound(to: CChar.self) { chars in
                        guard let start = chars.baseAddress else { return sqlite3_bind_text(handle, index, "", 0, csqlite_transient()) }
                        return sqlite3_bind_text(handle, index, start, Int32(chars.count), csqlite_transient())
                    }
                }
            case .blob(let bytes):
                rc = bytes.withUnsafeBytes {
                    // A zero-length blob still needs a non-NULL pointer, or SQLite stores NULL.
                    sqlite3_bind_blob(
                        handle, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), csqlite_transient())
                }
            }
            guard rc == SQLITE_OK else { throw SQLiteError(code: rc, handle: database.handle, sql: sql) }
        }
    }

    /// Ends the use: the snapshot it read let go, the values it was bound dropped.
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Steps once: true while a row is available.
    func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = SQLiteError(code: rc, handle: database.handle, sql: sql)
            reset()
            throw error
        }
    }

    /// Runs to completion and resets.
    func run(_ values: SQLValue...) throws {
        try run(values)
    }

    /// Runs to completion and resets.
    func run(_ values: [SQLValue]) throws {
        try bind(values)
        defer { reset() }
        while try step() {}
    }

    /// Calls `body` for each row, then resets; the row is only valid inside `body`.
    func forEach(_ values: [SQLValue], _ body: (Row) throws -> Void) throws {
        try bind(values)
        defer { reset() }
        while try step() { try body(Row(handle: handle)) }
    }

    /// Calls `body` for each row while it returns true, then resets.
    func forEach(_ values: [SQLValue], while body: (Row) throws -> Bool) throws {
        try bind(values)
        defer { reset() }
        while try step(), try body(Row(handle: handle)) {}
    }

    /// Maps every row, then resets.
    func map<T>(_ values: SQLValue..., transform: (Row) throws -> T) throws -> [T] {
        try map(values, transform: transform)
    }

    func map<T>(_ values: [SQLValue], transform: (Row) throws -> T) throws -> [T] {
        var result: [T] = []
        try forEach(values) { result.append(try transform($0)) }
        return result
    }

    /// The first row mapped, or nil; resets either way.
    func first<T>(_ values: SQLValue..., transform: (Row) throws -> T) throws -> T? {
        try bind(values)
        defer { reset() }
        return try step() ? transform(Row(handle: handle)) : nil
    }
}

/// Lives and dies on its connection's thread.
@available(*, unavailable)
extension Statement: Sendable {}
