import Foundation
import GuestStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Accepts guest connections on a thread of its own, resolves who is calling, and hands
/// each connection to an event loop, identity first (SPEC.md section 2).
///
/// Why not NIO's server channel: it accepts on one loop and, for a connection meant for
/// another, hops there and back, two cross-thread tasks and two wake-ups; and resolving
/// identity reads /proc, so on a loop a caller with a deep process tree would stall every
/// connection of that loop. Here a connection costs the loops one hand-off, and identity is
/// resolved beside them. A connection over its instance's limit is closed here, before any
/// channel exists for it.
///
/// Unchecked Sendable: after `start()` every mutable field is used only by the acceptor's
/// thread; the loops use only the constant ones (`services`, `adopt`), and `stop()` only the
/// pipe's write end.
final class Acceptor: @unchecked Sendable {
    /// What the loop needs to serve an accepted connection.
    struct Accepted: Sendable {
        var credentials: PeerCredentials?
        var match: IdentityMatch?
    }

    /// Connections accepted, and identities read, in one database snapshot.
    private static let batch = 64

    private let socket: ListeningSocket
    private let store: Store
    private let loops: [EventLoop]
    private let services: Services
    private let adopt: @Sendable (Channel, Accepted) throws -> Void
    /// A pipe: its read end wakes the thread's poll when `stop()` writes to the other.
    private let stopper: (read: CInt, write: CInt)
    private var thread: Thread?
    private var next = 0
    private var failing = false

    /// `adopt` runs on the connection's loop, to set up its channel.
    init(socket: ListeningSocket, store: Store, loops: [EventLoop], services: Services,
         adopt: @escaping @Sendable (Channel, Accepted) throws -> Void) throws {
        self.socket = socket
        self.store = store
        self.loops = loops
        self.services = services
        self.adopt = adopt
        var ends: [CInt] = [0, 0]
        guard pipe(&ends) == 0 else { throw StoreError.io("cannot make a pipe: \(String(cString: strerror(errno)))") }
        stopper = (ends[0], ends[1])
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "guestapid-accept"
        self.thread = thread
        thread.start()
    }

    /// Stops accepting; returns once the thread is done and the socket closed.
    func stop() {
        close(stopper.write)
        while thread?.isFinished == false { usleep(1_000) }
    }

    private func run() {
        defer {
            close(socket.descriptor)
            close(stopper.read)
        }
        var ready = [pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0), pollfd(fd: stopper.read, events: Int16(POLLIN), revents: 0)]
        while true {
            guard poll(&ready, 2, -1) >= 0 || errno == EINTR else { return }
            if ready[1].revents != 0 { return }
            if ready[0].revents != 0 { acceptWaiting() }
        }
    }

    /// An accepted connection on its way to its loop.
    private struct Handoff: Sendable {
        var descriptor: CInt
        var accepted: Accepted
    }

    /// Accepts what is waiting, at most a batch, reading identities in one snapshot, then
    /// hands each loop its share in one task: one wake-up a loop, not one a connection.
    private func acceptWaiting() {
        var handoffs = Array(repeating: [Handoff](), count: loops.count)
        let snapshot = store.beginSnapshot()
        defer {
            if snapshot { store.endSnapshot() }
            for (loop, batch) in zip(loops, handoffs) where !batch.isEmpty {
                loop.execute { [self] in batch.forEach { open($0, on: loop) } }
            }
        }
        for _ in 0..<Self.batch {
            // (accept4 is not in Swift's Glibc: NIO makes the socket non-blocking itself, and
            // the daemon starts no programs that could inherit it.)
            let descriptor = accept(socket.descriptor, nil, nil)
            if descriptor >= 0 {
                failing = false
                if let handoff = admit(descriptor) {
                    handoffs[next].append(handoff)
                    next = (next + 1) % loops.count
                }
                continue
            }
            switch errno {
            case EINTR, ECONNABORTED:
                continue
            case EAGAIN, EWOULDBLOCK:
                return
            default:
                // Out of descriptors, most likely: waiting connections stay queued, and
                // polling again at once would spin.
                if !failing { services.logger.error("cannot accept connections: \(String(cString: strerror(errno)))") }
                failing = true
                usleep(10_000)
                return
            }
        }
    }

    /// Who is calling, and whether its instance may open one more connection; nil (and
    /// the connection closed) when not.
    private func admit(_ descriptor: CInt) -> Handoff? {
        let credentials = PeerCredentials.read(descriptor: descriptor)
        let accepted = Accepted(credentials: credentials, match: credentials.flatMap(resolve))
        // Unidentified callers (nil) share one allowance: see `ConnectionLimiter`.
        let slot = accepted.match?.instanceID
        guard services.limiter.acquire(slot) else {
            services.logger.debug("connection refused: at its limit", metadata: ["guestapi.instance_id": "\(slot.map(String.init) ?? "unidentified")"])
            close(descriptor)
            return nil
        }
        return Handoff(descriptor: descriptor, accepted: accepted)
    }

    /// Makes the connection's channel, on its loop.
    private func open(_ handoff: Handoff, on loop: EventLoop) {
        let slot = handoff.accepted.match?.instanceID
        // Released by the channel's close once it exists; by the failure if it never did.
        let released = NIOLockedValueBox(false)
        let release: @Sendable () -> Void = { [services] in
            let first = released.withLockedValue { done in
                defer { done = true }
                return !done
            }
            if first { services.limiter.release(slot) }
        }
        let adopt = adopt
        ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.closeFuture.whenComplete { _ in release() }
                return channel.eventLoop.makeCompletedFuture { try adopt(channel, handoff.accepted) }
            }
            .withConnectedSocket(handoff.descriptor)
            .whenFailure { _ in release() }
    }

    private func resolve(_ credentials: PeerCredentials) -> IdentityMatch? {
        do {
            let started = NIODeadline.now()
            let match = try services.resolver.resolve(pid: credentials.pid, in: store)
            // tools/bench-scale.sh reads this line to time resolution where it happens.
            services.logger.debug("identity resolved", metadata: [
                "guestapi.pid": "\(credentials.pid)", "guestapi.instance_id": "\(match.map { String($0.instanceID) } ?? "none")",
                "guestapi.resolve_ns": "\((NIODeadline.now() - started).nanoseconds)",
            ])
            return match
        } catch {
            services.logger.error("identity lookup failed", metadata: ["guestapi.error": "\(error)"])
            return nil
        }
    }
}
