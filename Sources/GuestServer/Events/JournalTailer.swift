import Foundation
import GuestStore
import Logging
import NIOConcurrencyHelpers

/// Notices commits from any process and publishes new guest-visible journal entries.
///
/// `PRAGMA data_version` on its own connection changes whenever any other connection
/// commits, the CLI's included (SQLite's update hook would miss other processes): it is the
/// signal. inotify on the WAL file is the wake-up hint; since it can fire just before the
/// commit is visible, a hint that finds nothing new is followed by quick re-checks. Idle, the
/// tailer wakes ten times a second, and then also has its `DatabaseWatch` look at the file.
final class JournalTailer: Sendable {
    /// Milliseconds between checks when nothing wakes the tailer.
    static let idleCheck: Int32 = 100
    /// Re-checks after a hint that found nothing yet, 1 ms apart: the WAL is written before
    /// its fsync, and the commit becomes visible only after it, which can take tens of ms.
    static let hintRechecks = 250
    private static let page = 1_000

    private let running = NIOLockedValueBox(true)
    private let finished = ConditionLock(value: false)
    private let hub: EventHub
    private let logger: Logger
    private let box: StoreBox
    private let databasePath: String

    /// The tailer's connection and watch, used only on the tailer's thread.
    private final class StoreBox: @unchecked Sendable {
        let store: Store
        let watch: DatabaseWatch
        var last = 0
        init(_ store: Store, _ watch: DatabaseWatch) {
            self.store = store
            self.watch = watch
        }
    }

    /// `store` must follow `watch`'s epoch.
    init(store: Store, watch: DatabaseWatch, hub: EventHub, logger: Logger) throws {
        self.box = StoreBox(store, watch)
        self.databasePath = store.path
        self.hub = hub
        self.logger = logger
        box.last = try store.lastJournalID()
    }

    func start() {
        let thread = Thread { [self] in
            run()
            finished.lock()
            finished.unlock(withValue: true)
        }
        thread.name = "guestapi-tailer"
        thread.start()
    }

    func stop() {
        running.withLockedValue { $0 = false }
        finished.lock(whenValue: true)
        finished.unlock()
    }

    private func run() {
        var watcher = CommitWatcher(databasePath: databasePath)
        var version = -1
        var rechecks = 0
        /// The file was reopened: the journal may be another one, the folder a new one.
        var reopened = false
        /// Failing since the last success: said once, not every 100 ms.
        var failing = false
        while running.withLockedValue({ $0 }) {
            if watcher.wait(timeoutMilliseconds: rechecks > 0 ? 1 : Self.idleCheck) { rechecks = Self.hintRechecks }
            switch box.watch.check(box.store) {
            case .unusable:
                // The watch said why; closes this connection too, the first time.
                _ = try? box.store.follow()
                rechecks = 0
                continue
            case .reopened:
                watcher = CommitWatcher(databasePath: databasePath)
                version = -1
                reopened = true
            case .usable:
                break
            }
            do {
                if reopened {
                    // Go on after the last id published, or from this file's end if it holds
                    // fewer (an older backup): what commits from now on is published.
                    try box.store.follow()
                    box.last = min(box.last, try box.store.lastJournalID())
                    reopened = false
                }
                let now = try box.store.dataVersion()
                if now != version {
                    rechecks = 0
                    try drain()
                    // Only once drained: a drain that failed is tried again, not taken as done.
                    version = now
                } else if rechecks > 0 {
                    rechecks -= 1
                }
                if failing {
                    logger.notice("journal tailer works again")
                    failing = false
                }
            } catch {
                if !failing {
                    logger.error("journal tailer failed; retrying every \(Self.idleCheck) ms until it works",
                                 metadata: ["guestapi.error": "\(error)"])
                    failing = true
                }
                rechecks = 0
                usleep(UInt32(Self.idleCheck) * 1000)
            }
        }
    }

    /// Publishes everything after the last entry seen, a page at a time.
    private func drain() throws {
        while true {
            let entries = try box.store.journal(JournalQuery(after: box.last, guestVisibleOnly: true, limit: Self.page))
            guard let lastEntry = entries.last else { return }
            box.last = lastEntry.id
            let wanted = entries.filter { hub.hasSubscribers($0.instanceID) }
            if !wanted.isEmpty { hub.publish(wanted.map(EncodedEvent.init)) }
            if entries.count < Self.page { return }
        }
    }
}
