import GuestStore
import NIOCore
import NIOPosix

/// The daemon's database connections: one reader per event loop, used only on that loop
/// (SQLite point reads take microseconds, so they run inline), a few more per loop that send
/// large values (`ValueReaders`), and one writer on its own thread, because a write may wait
/// for another process's lock.
///
/// A loop's reads share one snapshot per loop tick: the first read of a tick begins a read
/// transaction and the tick's task queue ends it, before the loop waits for I/O again. So a
/// request is never answered from a snapshot older than its arrival (the loop saw its bytes
/// before the snapshot began), and the reads of a busy tick take SQLite's WAL read lock once
/// instead of once each.
final class StorePool: Sendable {
    private let readers: [ObjectIdentifier: LoopReader]
    private let loops: [EventLoop]
    private let writer: NIOThreadPool
    private let writerStore: WriterStore

    /// One loop's reader and the answers computed from it. Unchecked Sendable: the pool hands
    /// it only to code running on its loop (`local(on:)` checks), which alone uses it.
    final class LoopReader: @unchecked Sendable {
        let answers = AnswerCache()
        /// The connections that send the loop's large values, one value each.
        let values: ValueReaders
        fileprivate let store: Store
        private let loop: EventLoop

        fileprivate init(_ store: Store, loop: EventLoop, open: @escaping @Sendable () throws -> Store) {
            self.store = store
            self.loop = loop
            values = ValueReaders(open: open)
        }

        /// The reader, in this tick's snapshot (begun by the first read of the tick).
        func reader() -> Store {
            if !store.inSnapshot, store.beginSnapshot() {
                loop.execute { [self] in store.endSnapshot() }
            }
            return store
        }
    }

    /// The writer's connection, used only on its thread.
    private final class WriterStore: @unchecked Sendable {
        let store: Store
        init(_ store: Store) { self.store = store }
    }

    /// `open` makes a connection for each loop's reader and the writer; `openValueReader`, on
    /// its loop when first needed, for each reader of large values (read-only: never waits for
    /// a writer's lock, as setting the journal mode may).
    init(group: MultiThreadedEventLoopGroup, open: () throws -> Store, openValueReader: @escaping @Sendable () throws -> Store) throws {
        var readers: [ObjectIdentifier: LoopReader] = [:]
        for loop in group.makeIterator() {
            readers[ObjectIdentifier(loop)] = LoopReader(try open(), loop: loop, open: openValueReader)
        }
        self.readers = readers
        self.loops = Array(group.makeIterator())
        self.writerStore = WriterStore(try open())
        self.writer = NIOThreadPool(numberOfThreads: 1)
        writer.start()
    }

    /// The reader of the loop the caller is running on, in this tick's snapshot.
    func reader(on loop: EventLoop) -> Store {
        local(on: loop).reader()
    }

    /// The loop's reader and answers, for a caller that keeps them (a connection, on its loop).
    func local(on loop: EventLoop) -> LoopReader {
        loop.preconditionInEventLoop()
        guard let local = readers[ObjectIdentifier(loop)] else {
            preconditionFailure("no database reader for event loop \(loop)")
        }
        return local
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
            loop.execute { [self] in
                _ = try? local(on: loop).store.follow()
                local(on: loop).values.followIdle()
            }
        }
        _ = writer.runIfActive(eventLoop: loops[0]) { [writerStore] in _ = try? writerStore.store.follow() }
    }

    func shutdown() {
        try? writer.syncShutdownGracefully()
    }
}
