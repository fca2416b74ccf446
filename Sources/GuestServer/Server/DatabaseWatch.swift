import Foundation
import GuestStore
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Notices when the database file under the daemon's connections stops being the database at
/// its path — removed (the state folder with it), replaced by another file, or overwritten
/// with something that is not SQLite — and when a good database is there again.
///
/// The daemon then serves nothing from, and writes nothing to, a file nobody else can see:
/// the epoch closes every connection, guest requests answer 500 while it lasts, and one line
/// says why. A file that opens, has SQLite's header and passes `PRAGMA quick_check` at the
/// path again is reopened and served. Without this, connections would go on serving the old
/// file, and write to it, while the CLI used the new one.
///
/// A file removed or replaced leaves its WAL and shared-memory files at the path (SQLite does
/// not checkpoint a moved file on close), and SQLite would apply that WAL to whatever file is
/// put there next: the watch removes them, if they are still the ones the daemon had open.
/// A file overwritten in place keeps its own: closing the connections checkpoints the WAL
/// into it, which restores the pages the WAL holds.
///
/// Not Sendable: the journal tailer's thread runs it, with the tailer's own connection.
final class DatabaseWatch {
    /// What a check found.
    enum Outcome: Equatable {
        /// The file is the database: tail it.
        case usable
        /// It is not (or no longer, or not yet again): the epoch says why.
        case unusable
        /// A good database is at the path again: the epoch told every connection to reopen.
        case reopened
    }

    /// How often the file is looked at: two system calls each time.
    static let interval: Duration = .milliseconds(100)

    let epoch: DatabaseEpoch
    private let path: String
    private let socket: String
    private let logger: Logger
    /// Called after the epoch changed, to have every connection follow it now rather than on its next use.
    private let nudge: () -> Void
    private let clock = ContinuousClock()
    private var lastCheck: ContinuousClock.Instant?
    /// The file at the path last tried and found unusable: tried again only once it changes.
    private var rejected: FileStamp?
    /// The WAL and shared-memory files beside the database, as they were while it was usable.
    private var companions: [String: FileStamp] = [:]
    /// Looked at on the same beat.
    var socketWatch: SocketWatch?

    init(epoch: DatabaseEpoch, path: String, socket: String, logger: Logger, nudge: @escaping () -> Void) {
        self.epoch = epoch
        self.path = path
        self.socket = socket
        self.logger = logger
        self.nudge = nudge
    }

    /// Looks at the file under `store` (the tailer's connection, following the epoch), at most once per `interval`.
    func check(_ store: Store) -> Outcome {
        let now = clock.now
        let faulted = epoch.state.fault != nil
        if let lastCheck, now - lastCheck < Self.interval { return faulted ? .unusable : .usable }
        lastCheck = now
        socketWatch?.check()
        return faulted ? recover() : inspect(store)
    }

    /// The file under a working connection: still the one at the path, still SQLite?
    private func inspect(_ store: Store) -> Outcome {
        let problem: String
        var notes: [String] = []
        if store.fileHasMoved {
            problem = access(path, F_OK) == 0 ? "was replaced by another file" : "was removed"
            let removed = companions.filter { file, stamp in
                FileStamp(path: file).map { $0.isSameFile(as: stamp) } == true && unlink(file) == 0
            }
            if !removed.isEmpty { notes.append("removed its WAL and shared-memory files, which no other file may inherit") }
        } else if (try? store.fileHasSQLiteHeader()) == false {
            problem = "was overwritten with something that is not a SQLite database"
        } else {
            companions = [:]
            for file in [path + "-wal", path + "-shm"] { companions[file] = FileStamp(path: file) }
            return .usable
        }
        if access(socket, F_OK) != 0 { notes.append("the socket \(socket) is gone too: restart guestapid to take new connections") }
        let message =
            "database \(path) \(problem) while guestapid was running; guest requests answer 500 until a good database is there again"
            + notes.map { "; " + $0 }.joined()
        logger.error("\(message)")
        epoch.fail(.io("database \(path) \(problem); guestapid is waiting for a good one"))
        rejected = nil
        nudge()
        return .unusable
    }

    /// While the file is unusable: whether the one at the path now is a good database.
    private func recover() -> Outcome {
        guard let stamp = FileStamp(path: path) else {
            rejected = nil
            return .unusable
        }
        guard stamp != rejected else { return .unusable }
        do {
            try Store.verify(path: path)
        } catch {
            rejected = stamp
            logger.warning("database \(path) is still not usable: \(error)")
            return .unusable
        }
        rejected = nil
        epoch.reopen()
        nudge()
        logger.notice("database \(path) is a good database again; serving it")
        return .reopened
    }
}
