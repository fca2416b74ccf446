import GuestStore
import NIOCore
import NIOPosix

/// The daemon's database connections: one reader per event loop, used only on that loop
/// (SQLite point reads take microseconds, so they run inline), and one writer on its own
/// thread, because a write may wait for another process's lock.
///
/// A loop's reads share one snapshot per loop tick: the first read of a tick begins a read
/// transaction and the tick's task queue ends it, before the loop waits for I/O again. So a
/// request is never answered from a snapshot older than its arrival (the loop saw its bytes
/// before the snapshot began), and the reads of a busy tick take SQLite's WAL read lock once
/// instead of once each.
final class StorePool: Sendable {
    private let readers: [ObjectIdentifier: Owned]
    private let loops: [EventLoop]
    private let writer: NIOThreadPool
    private let writerStore: Owned

    /// A connection that one thread owns: a loop's reader, or the writer thread's.
    /// Unchecked Sendable: the pool hands each one only to the thread that owns it.
    private final class Owned: @unchecked Sendable {
        let store: Store
        /// The loop's answers computed from this reader (readers only).
        let answers = AnswerCache()
        init(_ store: Store) { self.store = store }
    }

    init(group: MultiThreadedEventLoopGroup, open: () throws -> Store) throws {
        var readers: [ObjectIdentifier: Owned] = [:]
        for loop in group.makeIterator() {
            readers[ObjectIdentifier(loop)] = Owned(try open())
        }
        self.readers = readers
        self.loops = Array(group.makeIterator())
        self.writerStore = Owned(try open())
        self.writer = NIOThreadPool(numberOfThreads: 1)
        writer.start()
    }

    /// The reader of the loop the caller is running on, in this tick's snapshot.
    func reader(on loop: EventLoop) -> Store {
        let owned = owned(on: loop)
        if !owned.store.inSnapshot, owned.store.beginSnapshot() {
            loop.execute { owned.store.endSnapshot() }
        }
        return owned.store
    }

    /// The answers the loop's reader gave (see `AnswerCache`).
    func answers(on loop: EventLoop) -> AnswerCache {
        owned(on: loop).answers
    }

    private func owned(on loop: EventLoop) -> Owned {
        loop.preconditionInEventLoop()
        guard let owned = readers[ObjectIdentifier(loop)] else {
            preconditionFailure("no database reader for event loop \(loop)")
        }
        return owned
    }

    /// Runs `body` with the writer connection on its thread, completing on `loop`.
    func write<T: Sendable>(on loop: EventLoop, _ body: @escaping @Sendable (Store) throws -> T) -> EventLoopFuture<T> {
        writer.runIfActive(eventLoop: loop) { [writerStore] in try body(writerStore.store) }
    }

    /// Has every connection follow its `DatabaseEpoch` now, each on its own thread, rather than
    /// on its next use: closed at once when the file went bad, even on an idle loop.
    func follow() {
        for loop in loops {
            // A reader in a snapshot follows when the snapshot ends, later in the same tick.
            loop.execute { [self] in _ = try? owned(on: loop).store.follow() }
        }
        _ = writer.runIfActive(eventLoop: loops[0]) { [writerStore] in _ = try? writerStore.store.follow() }
    }

    func shutdown() {
        try? writer.syncShutdownGracefully()
    }
}
