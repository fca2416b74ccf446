import GuestStore
import NIOCore
import NIOPosix

/// Builds replay pages (README, "Events and replay") off the event loops: reading a page of large values
/// and encoding it takes milliseconds a page, which on a loop would hold up every other
/// connection of that loop. One thread with a connection of its own reads and encodes; a loop
/// only writes what it gets.
///
/// The events it encoded are kept (up to `cacheBytes`), shared by every subscriber replaying
/// the same history (after a daemon restart, all of them): each is read and encoded once, and
/// their pending writes share the same buffers.
final class ReplayReader: Sendable {
    /// One page of a subscriber's replay.
    struct Page: Sendable {
        var events: [EncodedEvent]
        /// The page was cut by its limits: more may follow.
        var full: Bool
        /// The oldest journal id kept when the page was read (see `EventSink`).
        var firstKept: Int
    }

    static let pageEvents = 500
    static let pageBytes = 256 << 10
    static let cacheBytes = 32 << 20

    private let pool: NIOThreadPool
    private let owned: Owned

    /// The connection and the cache: used only on the pool's thread.
    private final class Owned: @unchecked Sendable {
        let store: Store
        var cache = EncodedEventCache(limit: ReplayReader.cacheBytes)
        init(_ store: Store) { self.store = store }
    }

    init(store: Store) {
        owned = Owned(store)
        pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
    }

    /// The instance's events of `kinds` after `after`, in a snapshot begun now; completes on `loop`.
    func page(instanceID: Int, after: Int, kinds: Set<JournalEntry.Kind>, withIDs: Bool, on loop: EventLoop) -> EventLoopFuture<Page> {
        pool.runIfActive(eventLoop: loop) { [owned] in
            let store = owned.store
            let snapshot = store.beginSnapshot()
            defer { if snapshot { store.endSnapshot() } }
            let query = JournalQuery(
                instanceID: instanceID, after: after, kinds: kinds, visibility: .guest,
                limit: Self.pageEvents, maxBytes: Self.pageBytes)
            let ids = try store.journalIDs(query)
            let firstKept = try store.firstKeptJournalID()
            var events: [EncodedEvent] = []
            for (id, _) in ids {
                let key = EncodedEventCache.Key(id: id, withID: withIDs, file: store.fileEpoch)
                if let known = owned.cache[key] {
                    events.append(known)
                } else if let entry = try store.journalEntry(id: id, wholeUpTo: EncodedEvent.wholeUpTo) {
                    let event = EncodedEvent(entry, withID: withIDs, fileEpoch: store.fileEpoch)
                    owned.cache[key] = event
                    events.append(event)
                }
            }
            let full = ids.count == Self.pageEvents || ids.reduce(0) { $0 + $1.bytes } >= Self.pageBytes
            return Page(events: events, full: full, firstKept: firstKept)
        }
    }

    func shutdown() {
        try? pool.syncShutdownGracefully()
    }
}
