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
/// tailer wakes ten times a second.
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

    /// The tailer's connection, used only on the tailer's thread.
    private final class StoreBox: @unchecked Sendable {
        let store: Store
        var last = 0
        init(_ store: Store) { self.store = store }
    }

    init(store: Store, hub: EventHub, logger: Logger) throws {
        self.box = StoreBox(store)
        self.databasePath = store.db.path
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
        let watcher = CommitWatcher(databasePath: databasePath)
        var version = -1
        var rechecks = 0
        while running.withLockedValue({ $0 }) {
            if watcher.wait(timeoutMilliseconds: rechecks > 0 ? 1 : Self.idleCheck) { rechecks = Self.hintRechecks }
            do {
                let now = try box.store.dataVersion()
                if now != version {
                    version = now
                    rechecks = 0
                    try drain()
                } else if rechecks > 0 {
                    rechecks -= 1
                }
            } catch {
                logger.error("journal tailer failed; retrying", metadata: ["guestapi.error": "\(error)"])
                usleep(100_000)
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
