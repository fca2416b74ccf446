import Foundation
import GuestStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Accepts guest connections on a thread of its own, resolves who is calling, and hands
/// each connection to an event loop, identity first (README, "How a caller is recognized").
///
/// Why not NIO's server channel: it accepts on one loop and, for a connection meant for
/// another, hops there and back, two cross-thread tasks and two wake-ups; and resolving
/// identity reads /proc, so on a loop a caller with a deep process tree would stall every
/// connection of that loop. Here a connection costs the loops one hand-off, and identity is
/// resolved beside them, cheapest caller first (`ResolutionQueue`): a costly caller is worked
/// on only while no one else waits. A connection over its instance's limit is closed here,
/// before any channel exists for it.
///
/// Unchecked Sendable: after `start()` every mutable field is used only by the acceptor's
/// thread; the loops use only the constant ones (`services`, `adopt`), and other threads only
/// `stop()` and `replace(socket:)`, through the wake pipe and a locked box.
final class Acceptor: @unchecked Sendable {
    /// Connections accepted at a time, before any is resolved: all that wait, as a rule. The
    /// socket's backlog is first come, first served, so a caller that connects behind another's
    /// burst of hundreds must be taken out of it at once, to get its turn (`ResolutionQueue`).
    /// Accepting costs a few microseconds; resolving and answering, more.
    private static let batch = 1024
    /// Callers waiting for resolution at most; beyond, new ones wait in the socket's backlog.
    private static let maxPending = 4096
    /// How long the thread resolves before it looks for new connections again.
    /// (Short: a caller resolved early in a slice goes to its loop only at the slice's end.)
    private static let slice = TimeAmount.microseconds(200)

    private var socket: ListeningSocket
    let store: Store
    let loops: [EventLoop]
    let services: Services
    let adopt: @Sendable (Channel, Admission) throws -> Void
    /// A pipe: its read end wakes the thread's poll when another thread writes to (or closes) the other.
    private let wake: (read: CInt, write: CInt)
    /// A socket bound anew by another thread, waiting to take the old one's place.
    private let replacement = NIOLockedValueBox<ListeningSocket?>(nil)
    private let finished = ConditionLock(value: false)
    private var queue = ResolutionQueue()
    var handoffs: [[Handoff]]
    var next = 0
    /// Lines about callers: at most one a minute for each pid.
    var callerLines = LogRateLimit()
    /// Lines about the database failing while a caller is resolved: at most one a minute.
    var databaseFailureLines = LogRateLimit()
    /// What a stranger's connection brought, read to answer it; reused for every one.
    var received = ByteBuffer()
    /// Strangers that have sent nothing yet (`Acceptor+Strangers.swift`).
    var strangers = WaitingStrangers()
    let allocator = ByteBufferAllocator()
    /// Accepting failing (out of descriptors): when to try again, and whether that was said.
    private var acceptFailures = AcceptFailures()

    /// `adopt` runs on the connection's loop, to set up its channel.
    init(
        socket: ListeningSocket, store: Store, loops: [EventLoop], services: Services,
        adopt: @escaping @Sendable (Channel, Admission) throws -> Void
    ) throws {
        self.socket = socket
        self.store = store
        self.loops = loops
        self.services = services
        self.adopt = adopt
        handoffs = Array(repeating: [], count: loops.count)
        var ends: [CInt] = [0, 0]
        guard pipe(&ends) == 0 else { throw ServerError.system("make a pipe", errno) }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        wake = (ends[0], ends[1])
    }

    func start() {
        let thread = Thread { [self] in
            ThreadName.set("guestapi-accept")
            run()
            finished.lock()
            finished.unlock(withValue: true)
        }
        thread.start()
    }

    /// Stops accepting; returns once the thread is done and the socket closed.
    func stop() {
        close(wake.write)
        finished.lock(whenValue: true)
        finished.unlock()
    }

    /// Serves `socket` from now on instead of the current one (which was removed from its path).
    func replace(socket: ListeningSocket) {
        replacement.withLockedValue { waiting in
            // One the thread has not taken yet is replaced in turn: closed, not leaked.
            if let unused = waiting { close(unused.descriptor) }
            waiting = socket
        }
        _ = withUnsafeBytes(of: UInt8(1)) { write(wake.write, $0.baseAddress, 1) }
    }

    private func run() {
        defer {
            close(socket.descriptor)
            close(wake.read)
            if let unused = replacement.withLockedValue({ $0 }) { close(unused.descriptor) }
        }
        var ready: [pollfd] = []
        while true {
            // Not accepting while the queue is full, or for a moment after accepting failed.
            let pause = acceptFailures.pause(now: .now())
            let accepting = queue.count < Self.maxPending && (pause ?? .zero) <= .zero
            ready.removeAll(keepingCapacity: true)
            ready.append(pollfd(fd: accepting ? socket.descriptor : -1, events: Int16(POLLIN), revents: 0))
            ready.append(pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0))
            for stranger in strangers.sockets { ready.append(pollfd(fd: stranger, events: Int16(POLLIN), revents: 0)) }
            // Asleep until something happens: a connection, a wake, a stranger's bytes or deadline.
            let waits = [pause.map { max(.milliseconds(1), $0) }, strangers.nextDeadline.map { max(.zero, $0 - .now()) }]
            let wait = queue.isEmpty ? waits.compactMap { $0 }.min() : .zero
            let timeout = wait.map { Int32(min($0.nanoseconds / 1_000_000 + ($0.nanoseconds % 1_000_000 > 0 ? 1 : 0), 60_000)) } ?? -1
            guard poll(&ready, nfds_t(ready.count), timeout) >= 0 || errno == EINTR else { return }
            if ready[1].revents != 0 {
                guard takeWake() else { return finishQueued() }
                continue
            }
            if !strangers.isEmpty { serveStrangers(ready: ready.dropFirst(2).lazy.filter { $0.revents != 0 }.map(\.fd)) }
            if ready[0].revents != 0 { acceptWaiting() }
            resolve()
            handOff(waiting: false)
        }
    }

    /// Stopping: callers accepted already are resolved and handed to their loops, which answer
    /// them while the daemon drains; those still in the socket's backlog wait for the next one.
    /// Returns once every connection handed over is set up, so that the drain sees it.
    private func finishQueued() {
        while !queue.isEmpty { resolve() }
        dropStrangers()
        for adopted in handOff(waiting: true) { try? adopted.wait() }
    }

    /// Reads the wake pipe: false when it was closed (stop), else takes up a new socket.
    private func takeWake() -> Bool {
        var byte: UInt8 = 0
        guard read(wake.read, &byte, 1) != 0 else { return false }
        if let new = replacement.withLockedValue({ socket in
            defer { socket = nil }
            return socket
        }) {
            close(socket.descriptor)
            socket = new
        }
        return true
    }

    /// An accepted connection on its way to its loop.
    struct Handoff: Sendable {
        var descriptor: CInt
        var admission: Admission
        var resolveNanoseconds: Int64
    }

    /// Accepts what is waiting, at most a batch, and queues each caller for resolution.
    private func acceptWaiting() {
        for _ in 0..<Self.batch where queue.count < Self.maxPending {
            // (accept4 is not in Swift's Glibc: NIO makes the socket non-blocking itself, and
            // the daemon starts no programs that could inherit it.)
            let descriptor = accept(socket.descriptor, nil, nil)
            guard descriptor >= 0 else { return acceptFailed(errno) }
            acceptSucceeded()
            guard let peer = PeerProcess.read(socket: descriptor, host: services.host) else {
                admit(descriptor, Admission(peer: nil, outcome: .unmatched), nanoseconds: 0, rule: nil, remembered: false)
                continue
            }
            // One process cannot fill the queue: beyond its share, its connections are refused.
            guard queue.add(peer, descriptor: descriptor, limit: services.limiter.limit) else {
                services.metrics.acceptor.withLockedValue { $0.refusedWaiting += 1 }
                logCaller(peer, "connection refused: too many of this process's connections wait to be resolved")
                close(descriptor)
                continue
            }
        }
    }

    private func acceptFailed(_ error: Int32) {
        switch error {
        case EINTR, ECONNABORTED, EAGAIN, EWOULDBLOCK:
            return
        default:
            // Out of descriptors, most likely: waiting connections stay queued, and polling
            // again at once would spin.
            guard acceptFailures.failed(now: .now()) else { return }
            services.logger.error("cannot accept connections: \(String(cString: strerror(error))); retrying every 10 ms")
        }
    }

    private func acceptSucceeded() {
        guard let tries = acceptFailures.succeeded() else { return }
        services.logger.notice("accepting connections again after \(tries) failed tries")
    }

    /// Resolves queued callers for one slice, in one database snapshot.
    private func resolve() {
        guard !queue.isEmpty else { return }
        let snapshot = store.beginSnapshot()
        defer { if snapshot { store.endSnapshot() } }
        let end = NIODeadline.now() + Self.slice
        repeat {
            if let (entry, outcome) = queue.step(host: services.host, store: store) {
                admit(
                    entry.descriptor, Admission(peer: entry.resolution.peer, outcome: outcome), nanoseconds: entry.nanoseconds,
                    rule: entry.resolution.rule, remembered: entry.resolution.remembered)
            }
        } while !queue.isEmpty && NIODeadline.now() < end
    }
}

extension Resolution.Outcome {
    /// The instance matched, if any.
    var instanceID: Int? {
        if case .matched(let match) = self { return match.instanceID }
        return nil
    }
}
