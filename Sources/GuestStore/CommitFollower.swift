#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Follows the commits other connections (any process) make to a store's file: the daemon's
/// journal tailer and `guestapi-admin journal --follow` both wait on one.
///
/// `PRAGMA data_version` on the store's connection is the signal: it moves whenever another
/// connection commits (SQLite's update hook would miss other processes). inotify on the WAL
/// file is the wake-up hint; since it fires when the commit's frames are written, a moment
/// before the commit is visible, a hint that finds nothing new is followed by quick re-checks
/// (`hintRechecks`, 1 ms apart). Without a hint, it looks every `walIdleMilliseconds`.
///
/// inotify instances are few (128 per user by default) and shared by every process of the
/// user: the CLI does not take one (it looks every `pollMilliseconds`), so that 128 followers
/// cannot leave the daemon without; a follower that asked for one and got none (see
/// `watchesWAL`) looks every `pollMilliseconds` too.
public final class CommitFollower {
    /// Re-checks after a hint that found nothing yet: the WAL is written before its fsync, and
    /// the commit becomes visible only after it, which can take tens of ms.
    static let hintRechecks = 250

    private let store: Store
    private let pollMilliseconds: Int32
    private let walIdleMilliseconds: Int32?
    private var watcher: WALWatcher?
    /// The data version last handled, and the one seen since; -1 for none.
    private var handledVersion = -1
    private var seenVersion = -1
    private var rechecks = 0
    /// Polls since a WAL watch was last tried for, while one is wanted and not had.
    private var unwatchedPolls = 0

    /// `walIdleMilliseconds`: wake when the WAL is written, and otherwise that often; nil:
    /// look every `pollMilliseconds`.
    public init(store: Store, pollMilliseconds: Int32, walIdleMilliseconds: Int32? = nil) {
        self.store = store
        self.pollMilliseconds = pollMilliseconds
        self.walIdleMilliseconds = walIdleMilliseconds
        watcher = walIdleMilliseconds.flatMap { _ in WALWatcher(databasePath: store.path) }
    }

    /// Whether commits wake it (inotify on the WAL), rather than it looking for them.
    public var watchesWAL: Bool { watcher != nil }

    /// Blocks until the WAL is written, the idle time passes, or (after a hint that found
    /// nothing) 1 ms; without a WAL watch, for `pollMilliseconds`.
    public func waitForHint() {
        guard let walIdleMilliseconds else {
            usleep(UInt32(pollMilliseconds) * 1000)
            return
        }
        guard let watcher else {
            // Asked for and not had: tried again now and then, in case the user freed one.
            unwatchedPolls += 1
            if unwatchedPolls * Int(pollMilliseconds) >= 5_000 {
                unwatchedPolls = 0
                self.watcher = WALWatcher(databasePath: store.path)
            }
            usleep(UInt32(pollMilliseconds) * 1000)
            return
        }
        if watcher.wait(timeoutMilliseconds: rechecks > 0 ? 1 : walIdleMilliseconds) { rechecks = Self.hintRechecks }
    }

    /// Whether another connection committed since the last `handled()`; throws what reading
    /// the version throws (a failing file).
    public func hasNewCommits() throws -> Bool {
        seenVersion = try store.dataVersion()
        if seenVersion != handledVersion {
            rechecks = 0
            return true
        }
        if rechecks > 0 { rechecks -= 1 }
        return false
    }

    /// What `hasNewCommits` saw is read: only what commits after it is new. (Not called when
    /// reading failed, so that it is tried again.)
    public func handled() { handledVersion = seenVersion }

    /// After a failure: wait the idle interval, not 1 ms, before looking again.
    public func backOff() { rechecks = 0 }

    /// The store reopened its file (the folder may be a new one): everything is new.
    public func restart() {
        watcher = walIdleMilliseconds.flatMap { _ in WALWatcher(databasePath: store.path) }
        handledVersion = -1
        rechecks = 0
    }

    /// What is committed now counts as handled: only later commits are new.
    public func skipToNow() throws {
        _ = try hasNewCommits()
        handled()
    }

    /// Blocks until another connection commits, and counts that commit as handled; throws
    /// when the file is no longer the one at its path (nothing would ever come) or cannot be read.
    public func waitForCommit() throws {
        while true {
            waitForHint()
            if store.fileHasMoved {
                throw StoreError.io("database \(store.path) was removed or replaced while following it; run the command again")
            }
            if try hasNewCommits() { return handled() }
        }
    }
}

@available(*, unavailable)
extension CommitFollower: Sendable {}

/// Wakes its owner when the database's WAL file is written. Only a hint; see `CommitFollower`.
private final class WALWatcher {
    private let fd: Int32
    private let walName: String
    private var buffer = [UInt8](repeating: 0, count: 4096)

    /// Watches the folder of `databasePath` (the WAL file may not exist yet).
    /// nil when inotify cannot be had (no instance or watch left for this user).
    init?(databasePath: String) {
        let slash = databasePath.lastIndex(of: "/")
        let folder = slash.map { String(databasePath[..<$0]) } ?? "."
        walName = String(databasePath[(slash.map { databasePath.index(after: $0) } ?? databasePath.startIndex)...]) + "-wal"
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { return nil }
        guard inotify_add_watch(fd, folder.isEmpty ? "/" : folder, UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO)) >= 0 else {
            close(fd)
            return nil
        }
    }

    deinit { close(fd) }

    /// Blocks until the WAL is written or `timeoutMilliseconds` pass; true when the WAL was written.
    func wait(timeoutMilliseconds: Int32) -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, timeoutMilliseconds) > 0 else { return false }
        return drainEvents()
    }

    /// Reads every pending event; true if one named the WAL file.
    private func drainEvents() -> Bool {
        var sawWAL = false
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { return sawWAL }
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= n {
                let (nameLength, name) = buffer.withUnsafeBytes { raw -> (Int, String) in
                    let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let start = offset + MemoryLayout<inotify_event>.size
                    let bytes = raw[start..<min(start + length, n)].prefix { $0 != 0 }
                    return (length, String(decoding: bytes, as: UTF8.self))
                }
                if name == walName { sawWAL = true }
                offset += MemoryLayout<inotify_event>.size + nameLength
            }
        }
    }
}
