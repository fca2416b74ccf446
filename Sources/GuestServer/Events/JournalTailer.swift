import Foundation
import GuestStore
import Logging
import NIOConcurrencyHelpers

/// Notices commits from any process and publishes new guest-visible journal entries, tells
/// an instance's connections when it is deleted or re-attached, and its held requests when
/// anything of it changed.
///
/// Its `CommitFollower` (on the tailer's own connection) says when any process committed.
/// Idle, the tailer wakes ten times a second, and then also has its `DatabaseWatch` look at
/// the file.
final class JournalTailer: Sendable {
    /// Milliseconds between checks when nothing wakes the tailer.
    static let idleCheck: Int32 = 100
    /// Milliseconds between checks without inotify: events late by that much at most.
    static let unwatchedCheck: Int32 = 5
    private static let page = 1_000
    /// Values read per page at most (at least one entry): a page of large values stays small.
    private static let pageBytes = 4 << 20

    private let running = NIOLockedValueBox(true)
    /// What the tailer has done, for health, metrics and the watchdog.
    struct Progress {
        /// The last journal id published.
        var published = 0
        /// The database cannot be read now.
        var failing = false
        /// Times round the tailer's loop: it changes while the tailer runs.
        var beats = 0
        /// Runtime hooks refused (`hook-refused` entries) since the daemon started.
        var hooksRefused = 0
        /// The schema a newer guestapi migrated the database to, if one did while this daemon
        /// runs (an upgrade's new CLI, before the daemon was restarted): it cannot read it.
        var newerSchema: Int?
    }

    let progress = NIOLockedValueBox(Progress())
    private let finished = ConditionLock(value: false)
    private let hub: EventHub
    private let connections: ConnectionRegistry
    private let held: HeldRequests
    private let logger: Logger
    private let box: StoreBox

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
    init(store: Store, watch: DatabaseWatch, hub: EventHub, connections: ConnectionRegistry, held: HeldRequests, logger: Logger) throws {
        self.box = StoreBox(store, watch)
        self.hub = hub
        self.connections = connections
        self.held = held
        self.logger = logger
        box.last = try store.lastJournalID()
    }

    func start() {
        let thread = Thread { [self] in
            ThreadName.set("guestapi-tailer")
            run()
            finished.lock()
            finished.unlock(withValue: true)
        }
        thread.start()
    }

    func stop() {
        running.withLockedValue { $0 = false }
        finished.lock(whenValue: true)
        finished.unlock()
    }

    private func run() {
        let follower = CommitFollower(store: box.store, pollMilliseconds: Self.unwatchedCheck, walIdleMilliseconds: Self.idleCheck)
        var watching = true
        /// The file was reopened: the journal may be another one, the folder a new one.
        var reopened = false
        /// Failing since the last success: said once, not every 100 ms.
        var failing = false
        while running.withLockedValue({ $0 }) {
            progress.withLockedValue {
                $0.published = box.last
                $0.failing = failing
                $0.beats &+= 1
            }
            if follower.watchesWAL != watching {
                watching = follower.watchesWAL
                if watching {
                    logger.notice("commits wake the journal tailer again (inotify)")
                } else {
                    logger.warning(
                        """
                        no inotify instance or watch left for this user (fs.inotify.max_user_instances, max_user_watches): \
                        the journal tailer looks for commits every \(Self.unwatchedCheck) ms
                        """
                    )
                }
            }
            follower.waitForHint()
            switch box.watch.check(box.store) {
            case .unusable:
                // The watch said why; closes this connection too, the first time.
                _ = try? box.store.follow()
                follower.backOff()
                continue
            case .reopened:
                follower.restart()
                reopened = true
                // The file may be an older copy, without instances open streams belong to (and
                // which would give their ids out again): every stream checks its instance.
                connections.sendAll(.changed)
                held.changedAll()
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
                if try follower.hasNewCommits() {
                    try checkSchema()
                    try drain()
                    // Only once drained: a drain that failed is tried again, not taken as done.
                    follower.handled()
                }
                if failing {
                    logger.notice("journal tailer works again")
                    failing = false
                }
            } catch {
                if !failing {
                    logger.error(
                        "journal tailer failed; retrying at least \(Self.idleCheck) ms apart until it works",
                        metadata: ["error": "\(error)"])
                    failing = true
                }
                follower.backOff()
                usleep(UInt32(Self.idleCheck) * 1000)
            }
        }
    }

    /// A newer guestapi's migration leaves this daemon's queries failing: said once, and shown
    /// by `/healthz` until a restart starts the new binary.
    private func checkSchema() throws {
        let version = try box.store.schemaVersion()
        guard version > Migrator.standard.latestVersion, progress.withLockedValue({ $0.newerSchema }) != version else { return }
        progress.withLockedValue { $0.newerSchema = version }
        logger.error(
            """
            the database was migrated to schema \(version) by a newer guestapi; \
            this guestapid knows \(Migrator.standard.latestVersion): restart it (systemctl restart guestapid)
            """
        )
    }

    /// Publishes everything after the last entry seen, a page at a time.
    private func drain() throws {
        while true {
            let query = JournalQuery(after: box.last, limit: Self.page, maxBytes: Self.pageBytes)
            // One snapshot: a prune between the two reads would make a page read whole look pruned.
            let snapshot = box.store.beginSnapshot()
            let (entries, firstKept) = try { () throws -> ([JournalEntry], Int) in
                defer { if snapshot { box.store.endSnapshot() } }
                return (try box.store.journal(query, wholeUpTo: EncodedEvent.wholeUpTo), try box.store.firstKeptJournalID())
            }()
            if firstKept > box.last + 1 {
                // Pruned before it was published: no subscriber can be sure to have every event,
                // and a deletion or stop among them was not seen: every connection checks its instance,
                // and every held request its answer.
                logger.warning(
                    "journal entries \(box.last + 1)..<\(firstKept) were pruned before they were published; ending every event stream")
                hub.endAll(.pruned(after: box.last))
                connections.sendAll(.changed)
                held.changedAll()
                box.last = firstKept - 1
                continue
            }
            guard let lastEntry = entries.last else { return }
            box.last = lastEntry.id
            var wanted: [EncodedEvent] = []
            var refused = 0
            for entry in entries {
                switch (entry.kind, entry.action) {
                case (.lifecycle, "hook-refused"): refused += 1  // nothing of the instance changed
                case (.lifecycle, "instance-deleted"): connections.send(.ended("instance deleted"), to: entry.instanceID)
                case (.lifecycle, "instance-stopped"): connections.send(.ended("instance stopped"), to: entry.instanceID)
                case (.lifecycle, "instance-attached"): connections.send(.changed, to: entry.instanceID)
                case (.lifecycle, _): break
                default:
                    if entry.isGuestVisible && hub.hasSubscribers(entry.instanceID) {
                        wanted.append(EncodedEvent(entry, fileEpoch: box.store.fileEpoch))
                    }
                }
            }
            held.changed(entries)
            if !wanted.isEmpty { hub.publish(wanted) }
            if refused > 0 { progress.withLockedValue { $0.hooksRefused += refused } }
            if entries.count < Self.page && query.maxBytes.map({ bytes(entries) < $0 }) ?? true { return }
        }
    }

    private func bytes(_ entries: [JournalEntry]) -> Int {
        entries.reduce(0) { $0 + ($1.oldValue?.count ?? 0) + ($1.value?.count ?? 0) }
    }
}
