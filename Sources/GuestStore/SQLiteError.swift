import CSQLite

/// A failure reported by SQLite: the result code, SQLite's message, and the SQL that failed.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public let sql: String?
    /// The database file, when known: named in the description of failures about the file itself.
    public internal(set) var database: String?

    public var primaryCode: Int32 { code & 0xff }

    /// One line a user can act on; failures of the file (full, read-only, not a database…) name it.
    public var description: String {
        let file = database.map { " \($0)" } ?? ""
        switch primaryCode {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return "database\(file) is locked by another process (\(message))"
        case SQLITE_READONLY where code == SQLiteCode.readOnlyDatabaseMoved:
            return "database\(file) was moved or removed while open (\(message))"
        case SQLITE_READONLY:
            return "database\(file) is read-only (\(message))"
        case SQLITE_NOTADB, SQLITE_CORRUPT:
            return "file\(file) is not a guestapi database or is corrupt (\(message))"
        case SQLITE_FULL:
            return "disk full: cannot write database\(file) (\(message))"
        case SQLITE_CANTOPEN:
            return "cannot open database\(file) (\(message))"
        case SQLITE_IOERR:
            return "I/O error on database\(file) (\(message))"
        default:
            return message
        }
    }

    init(code: Int32, message: String, sql: String?) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    init(code: Int32, handle: OpaquePointer?, sql: String? = nil) {
        self.code = code
        self.message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
        self.sql = sql
    }

    /// A failure the file's permissions may explain.
    var isPermissionProblem: Bool {
        [SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH].contains(primaryCode)
    }

    /// The same failure, about the database file at `path`.
    func about(_ path: String) -> SQLiteError {
        var error = self
        error.database = path
        return error
    }
}

/// Extended result codes SQLite defines as macros, which Swift does not import.
enum SQLiteCode {
    /// SQLITE_IOERR_SHORT_READ: a read returned fewer bytes than asked (the file is shorter).
    static let ioErrorShortRead = SQLITE_IOERR | (2 << 8)
    /// SQLITE_READONLY_DBMOVED: the file was renamed or removed while open.
    static let readOnlyDatabaseMoved = SQLITE_READONLY | (4 << 8)
}
