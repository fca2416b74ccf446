import Foundation

/// The guestapi state: one SQLite file, migrated on open, and the image store beside it.
///
/// Every mutating method is one transaction.
public final class Store {
    /// The connection, replaced when the store reopens the file. While an epoch says the file
    /// cannot be used, an in-memory stand-in holds its place (the file's is closed) and every
    /// call throws the fault before reaching it.
    private(set) var db: Database
    /// The database file.
    public let path: String
    public let imagesDirectory: String
    private let readOnly: Bool
    private let epoch: DatabaseEpoch?
    /// The epoch's number this connection follows (not the snapshot `revision`): it changes when the file is reopened,
    /// which may hold another history under the same journal ids.
    public private(set) var fileEpoch: Int
    /// Changes whenever a snapshot may see something the one before it did not: a commit by
    /// any connection (`PRAGMA data_version`), or the file reopened. What was read under one
    /// revision holds for every read in a snapshot of the same revision.
    public private(set) var revision = 0
    /// A read transaction from `beginSnapshot()` is open.
    public private(set) var inSnapshot = false
    /// `PRAGMA data_version` in the last snapshot; nil when a new connection was opened since.
    private var lastDataVersion: Int?
    /// Reads repeated for every connection, kept for the revision (used only in snapshots).
    var instanceMemo = RevisionMemo<Int, GuestInstance?>()
    var identityMemo = RevisionMemo<IdentityQuery, [IdentityMatch]>()
    var settingsMemo = RevisionMemo<Int, IdentitySettings>(capacity: 1)
    /// The value `beginValue` opened, read until `endValue`.
    var blob: Database.Blob?
    var beganValue: ValueSource?
    /// Whether an instance's registered init (pid, start time) still runs in this PID
    /// namespace; given by callers that can read /proc (the store never does). Without it, a
    /// namespace another instance registered is never taken for free.
    public var initIsRunning: ((_ pid: Int, _ startTime: Int?, _ namespace: Int) -> Bool)?

    /// Opens (creating and migrating unless `readOnly`) the database at `path`. With an `epoch`,
    /// the store closes and reopens its connection as the epoch says (`follow()`).
    public init(path: String, imagesDirectory: String, readOnly: Bool = false, epoch: DatabaseEpoch? = nil) throws {
        self.path = path
        self.imagesDirectory = imagesDirectory
        self.readOnly = readOnly
        self.epoch = epoch
        fileEpoch = epoch?.state.number ?? 0
        db = try Self.open(path: path, readOnly: readOnly)
    }

    /// How a command may use the state.
    public enum Access: Sendable {
        /// Reads only: the state must exist; nothing is created or migrated.
        case read
        /// Changes what exists: the state must exist.
        case write
        /// May make the state: folders and database are created and migrated as needed.
        case create
    }

    public convenience init(paths: StatePaths, access: Access = .create, epoch: DatabaseEpoch? = nil) throws {
        if access == .create {
            try paths.createDirectories(socket: false)
        } else {
            try paths.checkExisting()
        }
        try self.init(path: paths.database, imagesDirectory: paths.images, readOnly: access == .read, epoch: epoch)
    }

    private static func open(path: String, readOnly: Bool) throws -> Database {
        // Made 0600 before SQLite opens it (SQLite would make it 0644, and gives the WAL and
        // shared-memory files the database's mode): it holds every instance's config.
        if !readOnly {
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 { close(fd) }
        }
        return try wrap(path) {
            let db = try Database(path: path, readOnly: readOnly)
            if readOnly {
                let version = try db.integer("PRAGMA user_version") ?? 0
                if version > Migrator.standard.latestVersion {
                    throw StoreError.newerSchema(found: version, supported: Migrator.standard.latestVersion)
                }
                // An older guestapi's file: what is read here needs this schema. Migrated first
                // (as a write command or the daemon would), when this user may write it.
                if version > 0 && version < Migrator.standard.latestVersion {
                    do {
                        _ = try open(path: path, readOnly: false)
                    } catch StoreError.permissionDenied {
                        throw StoreError.io(
                            "database \(path) has an older guestapi's schema (version \(version)); "
                                + "run guestapid, or a command that changes something, once as a user who may write it"
                        )
                    }
                }
            } else {
                try Migrator.standard.migrate(db)
                // WAL lets the daemon read while the CLI writes. A database restored from a
                // backup (VACUUM INTO, .backup) comes in rollback mode: switch it back. Best
                // effort: it needs a moment alone with the file, and works without it.
                if try db.statement("PRAGMA journal_mode").first(transform: { $0.text(0) }) != "wal" {
                    try? db.execute("PRAGMA journal_mode = WAL")
                }
            }
            return db
        }
    }

    /// Runs `body` with SQLite's failures as `StoreError`s that name the file; one that the
    /// file's permissions explain says so.
    static func wrap<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SQLiteError {
            if error.isPermissionProblem, access(path, R_OK | W_OK) != 0 && errno == EACCES { throw StoreError.permissionDenied(path) }
            throw StoreError.sqlite(error.about(path))
        }
    }

    /// Runs `body` as one write transaction, with SQLite failures as `StoreError`.
    func write<T>(_ body: () throws -> T) throws -> T {
        try wrapped {
            // Opened while the file could not be written, a connection stays read-only: try a
            // fresh one, in case that was fixed. If not, the write fails and says read-only.
            if !readOnly && db.isReadOnly && !db.inTransaction, let fresh = try? Self.open(path: path, readOnly: false) {
                db = fresh
            }
            return try db.write(body)
        }
    }

    func wrapped<T>(_ body: () throws -> T) throws -> T {
        try follow()
        return try Self.wrap(path, body)
    }

    /// The database's schema version (`PRAGMA user_version`), as committed now.
    public func schemaVersion() throws -> Int {
        try wrapped { try db.integer("PRAGMA user_version") ?? 0 }
    }

    /// Brings the connection in line with the epoch, if any: closed, with the epoch's fault
    /// thrown, while the file cannot be used; opened anew once the epoch moved on. Never inside
    /// a transaction, which finishes on the connection it began on.
    public func follow() throws {
        guard let epoch, !db.inTransaction else { return }
        let state = epoch.state
        if let fault = state.fault {
            if fileEpoch != state.number {
                // Closed, not only refused: a file removed or replaced is let go of, and one
                // overwritten in place gets back, at the last close, the pages its WAL holds.
                db = try! Database(path: ":memory:")  // cannot fail but for lack of memory
                fileEpoch = state.number
            }
            throw fault
        }
        guard fileEpoch != state.number else { return }
        db = try Self.open(path: path, readOnly: readOnly)
        fileEpoch = state.number
        lastDataVersion = nil
    }

    /// Begins a read transaction that lasts until `endSnapshot()`: the reads between see the
    /// database as committed when it began, and share one WAL read lock. (A read outside a
    /// transaction takes and drops that lock itself, two fcntl calls: half its cost.)
    /// False when none could begin; reads then run on their own, and fail as they would.
    public func beginSnapshot() -> Bool {
        guard !inSnapshot else { return true }
        do {
            try follow()
            try db.statement("BEGIN").run()
            let version = try db.statement("PRAGMA data_version").first { $0.int(0) }
            if version == nil || version != lastDataVersion {
                revision += 1
                lastDataVersion = version
            }
            inSnapshot = true
            return true
        } catch {
            if db.inTransaction { try? db.execute("ROLLBACK") }
            revision += 1
            lastDataVersion = nil
            return false
        }
    }

    /// Ends the snapshot from `beginSnapshot()`, then follows the epoch, which it could not
    /// while the snapshot was open.
    public func endSnapshot() {
        guard inSnapshot else { return }
        inSnapshot = false
        if (try? db.statement("COMMIT").run()) == nil, db.inTransaction { try? db.execute("ROLLBACK") }
        try? follow()
    }
}

extension Store {
    /// Throws unless `path` is a guestapi database in good order: it opens, starts with SQLite's
    /// header, is not from a newer schema and passes `PRAGMA quick_check`. Read-only: it never
    /// creates or migrates a file.
    public static func verify(path: String) throws {
        let db = try open(path: path, readOnly: true)
        let verdict = try wrap(path) { () -> String in
            if try db.integer("PRAGMA user_version") == 0, try db.integer("SELECT count(*) FROM sqlite_master") ?? 0 > 0 {
                throw StoreError.notGuestapiDatabase(path)
            }
            return try db.statement("PRAGMA quick_check(1)").first { $0.text(0) } ?? "no answer"
        }
        guard verdict == "ok" else { throw StoreError.io("database \(path) is corrupt: \(verdict)") }
    }

    /// Changes whenever another connection (any process) commits.
    public func dataVersion() throws -> Int { try wrapped { try db.dataVersion() } }

    /// Whether the file this store has open was renamed or removed: the path names another
    /// file, or none. Nothing that commits there will ever reach this store.
    public var fileHasMoved: Bool { db.fileHasMoved() }

    /// Whether the file this store has open still starts as a SQLite database does.
    public func fileHasSQLiteHeader() throws -> Bool { try db.fileHasSQLiteHeader() }

    /// Whether this store can only read (its file was not writable when opened).
    public var isReadOnly: Bool { db.isReadOnly }
}

/// It owns one `Database`, which one thread uses at a time.
@available(*, unavailable)
extension Store: Sendable {}
