import CSQLite

/// What a connection can tell about the file under it, asked through SQLite's own file handle:
/// opening and closing another descriptor on the file would drop this process's POSIX locks.
extension Database {
    /// Whether the file starts with SQLite's header, or is empty (a database not yet written),
    /// or there is no file (an in-memory database).
    ///
    /// SQLite reads page 1 from the WAL when a WAL is there, whatever the file holds: a file
    /// overwritten with garbage goes unnoticed, and a file put in another's place inherits
    /// the other's WAL. Look at the file itself.
    func fileHasSQLiteHeader() throws -> Bool {
        var pointer: UnsafeMutableRawPointer?
        var rc = sqlite3_file_control(handle, "main", SQLITE_FCNTL_FILE_POINTER, &pointer)
        guard rc == SQLITE_OK, let file = pointer?.assumingMemoryBound(to: sqlite3_file.self) else {
            throw SQLiteError(code: rc, handle: nil)
        }
        guard let methods = file.pointee.pMethods else { return true }
        guard let xFileSize = methods.pointee.xFileSize, let xRead = methods.pointee.xRead else {
            throw SQLiteError(code: SQLITE_CANTOPEN, handle: nil)
        }
        var size: sqlite3_int64 = 0
        rc = xFileSize(file, &size)
        guard rc == SQLITE_OK else { throw SQLiteError(code: rc, handle: nil) }
        if size == 0 { return true }
        var header = [UInt8](repeating: 0, count: 16)
        rc = header.withUnsafeMutableBytes { xRead(file, $0.baseAddress, 16, 0) }
        // A file shorter than the header is not a database: SQLite zero-fills a short read.
        guard rc == SQLITE_OK || rc == SQLiteCode.ioErrorShortRead else { throw SQLiteError(code: rc, handle: nil) }
        return header == Self.header
    }

    /// Whether the file this connection has open was renamed or removed: the path names another file, or none.
    func fileHasMoved() -> Bool {
        var moved: Int32 = 0
        return sqlite3_file_control(handle, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && moved != 0
    }

    /// Whether this connection can only read: SQLite opens a file it may not write read-only,
    /// and the connection stays so even once the file is writable again.
    var isReadOnly: Bool { sqlite3_db_readonly(handle, "main") == 1 }

    /// Whether a transaction is open on this connection.
    var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// "SQLite format 3" and a NUL: the first 16 bytes of every database file.
    static let header: [UInt8] = Array("SQLite format 3".utf8) + [0]
}
