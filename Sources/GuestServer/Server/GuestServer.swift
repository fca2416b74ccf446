import Foundation
import GuestIdentity
import GuestStore
import GuestVersion
import HostProcess
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import StandardStreams

/// guestapid: the guest API on a Unix socket, for every instance in the database.
public final class GuestServer: Sendable {
    private let configuration: ServerConfiguration
    private let logger: Logger
    private let connections = ConnectionRegistry()

    public init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully. Throws if it cannot start.
    public func run() throws {
        // With socket activation, systemd owns the socket (and its path): it is served as it
        // is and never removed, so a restart loses no connection (clients wait in its backlog).
        // Checked before the daemon opens anything, which could take a descriptor's number.
        let inherited = try Systemd.inheritedSocket(named: "guest")
        // A log reader that went away (journald restarted, a closed pipe) must not end us.
        signal(SIGPIPE, SIG_IGN)
        // Before anything is started: a stop asked for while starting is kept, and honoured
        // once started, rather than killing a half-started daemon (or being lost).
        let signals = TerminationSignals(logger: logger)
        let paths = configuration.paths
        try paths.createDirectories(socket: true)
        let lock = try StateLock(path: paths.lockFile)
        FileDescriptorLimit.raise(logger: logger)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        defer { try? group.syncShutdownGracefully() }
        // Every connection follows one epoch: closed while the file under them is not the
        // database at the path any more, reopened once a good one is back (`DatabaseWatch`).
        let epoch = DatabaseEpoch()
        let stores = try StorePool(
            group: group, open: { try Store(paths: paths, epoch: epoch) },
            openValueReader: { try Store(paths: paths, access: .read, epoch: epoch) })
        defer { stores.shutdown() }
        let hub = EventHub()
        let held = HeldRequests()
        let replays = ReplayReader(store: try Store(paths: paths, epoch: epoch))
        defer { replays.shutdown() }
        let tailerStore = try Store(paths: paths, epoch: epoch)
        if tailerStore.isReadOnly {
            logger.warning("database \(paths.database) is read-only: guests' state changes (PATCH /1.0) fail until it is writable")
        }
        let watch = DatabaseWatch(epoch: epoch, path: paths.database, socket: paths.socket, logger: logger) { stores.follow() }
        let tailer = try JournalTailer(store: tailerStore, watch: watch, hub: hub, connections: connections, held: held, logger: logger)
        let host = HostFacts()
        if !host.peerPidfd {
            logger.warning(
                """
                this kernel has no SO_PEERPIDFD (Linux 6.5): a caller is known by its pid number alone on accept, \
                which the kernel may have given to another process
                """
            )
        }
        let services = Services(
            api: GuestAPI(
                location: configuration.location,
                identity: IdentityEndpoint(keys: SigningKeyCache(stateDirectory: paths.stateDirectory), host: configuration.location),
                held: held),
            stores: stores, host: host,
            limiter: ConnectionLimiter(limit: configuration.maxConnectionsPerInstance), connections: connections,
            events: hub, held: held, replays: replays,
            metrics: Metrics(loops: Array(group.makeIterator()), startedAt: Date().timeIntervalSince1970),
            limits: .init(), logger: logger)

        for file in paths.restrictDatabaseFiles() {
            logger.notice("\(file) could be read by others; made it 0600: it holds every instance's config")
        }

        let socket: ListeningSocket
        if let inherited {
            socket = ListeningSocket(inherited: inherited)
        } else {
            try StateLock.clearStaleSocket(paths.socket)
            socket = try ListeningSocket(path: paths.socket, backlog: configuration.listenBacklog)
        }
        let acceptor = try Acceptor(
            socket: socket, store: Store(paths: paths, epoch: epoch), loops: Array(group.makeIterator()), services: services
        ) { [self] channel, admission in try adopt(channel, admission, services: services) }
        if inherited == nil {
            watch.socketWatch = SocketWatch(
                socket: socket, path: paths.socket, backlog: configuration.listenBacklog,
                acceptor: acceptor, logger: logger)
        }
        let loops = Array(group.makeIterator())
        let admin = try AdminServer(
            path: paths.adminSocket, group: group,
            sources: .init(
                services: services, loops: loops, epoch: epoch, tailer: tailer, socket: paths.socket, database: paths.database,
                stateDirectory: paths.stateDirectory))
        let lifecycle = Lifecycle(logger: logger)
        defer { lifecycle.stopAll() }
        lifecycle.start("admin socket", stop: { admin.close(removing: paths.adminSocket) })
        lifecycle.start("guest connections", stop: { [self] in drainConnections(timeout: .seconds(5)) })
        lifecycle.start("guest socket", acceptor.start) {
            acceptor.stop()
            if inherited == nil { unlink(paths.socket) }
        }
        // Stopped before the socket is removed: its socket watch would bind the socket again.
        lifecycle.start("journal tailer", tailer.start, stop: tailer.stop)
        logger.info(
            "started",
            metadata: [
                "version": "\(BuildInfo.description)", "socket": "\(paths.socket)",
                "database": "\(paths.database)", "admin_socket": "\(paths.adminSocket)",
                "socket_activation": .stringConvertible(inherited != nil),
            ])
        StandardStream.write(
            Array("guestapid: serving the guest API on \(paths.socket) (database \(paths.database))\n".utf8), to: STDOUT_FILENO)
        let notifier = SystemdNotifier()
        let status: @Sendable () -> String = {
            "serving \(services.connections.count) connections, \(services.events.count) event streams"
        }
        notifier?.send("READY=1\nSTATUS=\(status())")
        let rounds: @Sendable () -> Int = { tailer.progress.withLockedValue { $0.beats } }
        let watchdog = notifier.flatMap { notifier in
            notifier.watchdogInterval.map { Watchdog(notifier: notifier, interval: $0, loops: loops, rounds: rounds, status: status) }
        }
        lifecycle.start("watchdog", stop: { watchdog?.stop() })

        signals.wait()
        logger.info("shutting down")
        notifier?.send("STOPPING=1")
        lifecycle.stopAll()
        logger.info("stopped")
        withExtendedLifetime(lock) {}
    }

    /// Sets up a connection the acceptor handed over, on its loop: its one HTTP handler.
    private func adopt(_ channel: Channel, _ admission: Admission, services: Services) throws {
        connections.add(channel, instanceID: admission.outcome.instanceID)
        // One read per readiness event: reading stops as soon as back-pressure says so, so a
        // peer that pipelines and never reads finds its sends blocked, not queued here.
        try channel.syncOptions?.setOption(.maxMessagesPerRead, value: 1)
        try channel.pipeline.syncOperations.addHandler(
            GuestConnectionHandler(
                services: services, connection: ConnectionContext(admission),
                requestArrived: admission.requestArrived,
                loop: channel.eventLoop))
        if connections.isQuiescing { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
    }

    /// Lets each connection finish its request (streams end with WebSocket close 1001), then
    /// waits for all to close; past `timeout` the rest are closed.
    private func drainConnections(timeout: TimeAmount) {
        connections.quiesceAll()
        let deadline = NIODeadline.now() + timeout
        // Again while some remain: a connection the acceptor handed over late joins after the first look.
        while true {
            let open = connections.all
            guard let loop = open.first?.eventLoop else { return }
            let cut = loop.scheduleTask(deadline: deadline) { [connections] in
                for channel in connections.all { channel.close(promise: nil) }
            }
            try? EventLoopFuture.andAllComplete(open.map(\.closeFuture), on: loop).wait()
            cut.cancel()
        }
    }
}
