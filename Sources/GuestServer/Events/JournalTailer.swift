import Foundation
import GuestStore
import Logging
import NIOConcurrencyHelpers

/// Notices commits from any process and publishes new guest-visible journal entries.
///
/// `PRAGMA data_version` on its own connection changes whenever any other connection
/// commits, the CLI's included (SQLite's update hook would miss other processes). Checking
/// it costs a shared-memory read, so the tailer polls it every millisecond on its own thread
/// and reads the journal only when it moved.
final class JournalTailer: Sendable {
    static let pollInterval: UInt32 = 1_000  // microseconds
    private static let page = 1_000

    private let running = NIOLockedValueBox(true)
    private let finished = ConditionLock(value: false)
    private let hub: EventHub
    private let logger: Logger
    private let box: StoreBox

    /// The tailer's connection, used only on the tailer's thread.
    private final class StoreBox: @unchecked Sendable {
        let store: Store
        var last = 0
        init(_ store: Store) { self.store = store }
    }

    init(store: Store, hub: EventHub, logger: Logger) throws {
        self.box = StoreBox(store)
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
        var version = -1
        while running.withLockedValue({ $0 }) {
            do {
                let now = try box.store.dataVersion()
                if now != version {
                    version = now
                    try drain()
                }
            } catch {
                logger.error("journal tailer failed; retrying", metadata: ["guestapi.error": "\(error)"])
                usleep(100_000)
            }
            usleep(Self.pollInterval)
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
