import CSQLite

/// A failure reported by SQLite: the result code, SQLite's message, and the SQL that failed.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public let sql: String?

    public var primaryCode: Int32 { code & 0xff }

    public var description: String {
        switch primaryCode {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return "database is locked by another process (\(message))"
        case SQLITE_READONLY:
            return "database is read-only (\(message))"
        case SQLITE_NOTADB, SQLITE_CORRUPT:
            return "file is not a guestapi database or is corrupt (\(message))"
        case SQLITE_FULL:
            return "disk full (\(message))"
        case SQLITE_CANTOPEN:
            return "cannot open database (\(message))"
        default:
            return message
        }
    }

    init(code: Int32, handle: OpaquePointer?, sql: String? = nil) {
        self.code = code
        self.message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
        self.sql = sql
    }
}
