import Foundation
import GuestStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// guestapid: the guest API on a Unix socket, for every instance in the database.
public final class GuestServer: Sendable {
    /// Sent to every connection when the daemon stops: finish the request in flight, then close.
    struct Shutdown: Sendable {}

    private let configuration: ServerConfiguration
    private let logger: Logger
    private let connections = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])

    public init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully. Throws if it cannot start.
    public func run() throws {
        let paths = configuration.paths
        try paths.createDirectories(socket: true)
        let lock = try StateLock(path: paths.lockFile)
        FileDescriptorLimit.raise(logger: logger)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        defer { try? group.syncShutdownGracefully() }
        // Every connection follows one epoch: closed while the file under them is not the
        // database at the path any more, reopened once a good one is back (`DatabaseWatch`).
        let epoch = DatabaseEpoch()
        let stores = try StorePool(group: group) { try Store(paths: paths, epoch: epoch) }
        defer { stores.shutdown() }
        let hub = EventHub()
        let tailerStore = try Store(paths: paths, epoch: epoch)
        if tailerStore.db.isReadOnly {
            logger.warning("database \(paths.database) is read-only: guests' state changes (PATCH /1.0) fail until it is writable")
        }
        let watch = DatabaseWatch(epoch: epoch, path: paths.database, socket: paths.socket, logger: logger) { stores.follow() }
        let tailer = try JournalTailer(store: tailerStore, watch: watch, hub: hub, logger: logger)
        let services = Services(
            api: GuestAPI(location: configuration.location), stores: stores, resolver: IdentityResolver(),
            limiter: ConnectionLimiter(limit: configuration.maxConnectionsPerInstance), events: hub,
            limits: .init(), logger: logger)

        try StateLock.clearStaleSocket(paths.socket)
        let acceptor = try Acceptor(
            socket: ListeningSocket(path: paths.socket, backlog: configuration.listenBacklog),
            store: Store(paths: paths, epoch: epoch), loops: Array(group.makeIterator()), services: services
        ) { [self] channel, accepted in try adopt(channel, accepted, services: services) }
        // Who may talk is decided by peer credentials, not file modes.
        chmod(paths.socket, 0o666)
        tailer.start()
        acceptor.start()
        FileHandle.standardOutput.write(Data("guestapid: serving the guest API on \(paths.socket) (database \(paths.database))\n".utf8))

        waitForTerminationSignal()
        logger.info("shutting down")
        acceptor.stop()
        unlink(paths.socket)
        hub.closeAll()
        drainConnections(timeout: .seconds(5))
        tailer.stop()
        withExtendedLifetime(lock) {}
    }

    /// Sets up a connection the acceptor handed over, on its loop: its one HTTP handler.
    private func adopt(_ channel: Channel, _ accepted: Acceptor.Accepted, services: Services) throws {
        let id = ObjectIdentifier(channel)
        connections.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [connections] _ in connections.withLockedValue { $0[id] = nil } }
        // One read per readiness event: reading stops as soon as back-pressure says so, so a
        // peer that pipelines and never reads finds its sends blocked, not queued here.
        try channel.syncOptions?.setOption(.maxMessagesPerRead, value: 1)
        let connection = ConnectionContext(credentials: accepted.credentials, match: accepted.match)
        try channel.pipeline.syncOperations.addHandler(GuestConnectionHandler(services: services, connection: connection))
    }

    private func waitForTerminationSignal() {
        let stop = DispatchSemaphore(value: 0)
        let sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            return source
        }
        stop.wait()
        sources.forEach { $0.cancel() }
    }

    /// Lets each connection finish its request, then waits for all to close.
    private func drainConnections(timeout: TimeAmount) {
        let open = connections.withLockedValue { Array($0.values) }
        for channel in open { channel.pipeline.fireUserInboundEventTriggered(Shutdown()) }
        let deadline = NIODeadline.now() + timeout
        while NIODeadline.now() < deadline, connections.withLockedValue({ !$0.isEmpty }) {
            usleep(10_000)
        }
        for channel in connections.withLockedValue({ Array($0.values) }) { channel.close(promise: nil) }
    }
}
