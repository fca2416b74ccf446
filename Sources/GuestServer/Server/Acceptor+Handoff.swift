import GuestStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Admission and hand-off: whether a resolved caller may connect, what is said about it, and
/// how its connection reaches its loop.
extension Acceptor {
    /// Whether the caller's instance may open one more connection: queued for its loop if so,
    /// closed if not. Counted, and said (at most once a minute for a process) when refused or
    /// unrecognized.
    /// `remembered`: the outcome came from `ResolutionMemo`.
    func admit(_ descriptor: CInt, _ admission: Admission, nanoseconds: Int64, rule: String?, remembered: Bool) {
        let slot = admission.outcome.instanceID
        // Unidentified callers (nil) share one allowance: see `ConnectionLimiter`.
        let admitted = services.limiter.acquire(slot)
        services.metrics.acceptor.withLockedValue { counters in
            switch admission.outcome {
            case .matched: counters.resolutions[rule ?? "ancestry", default: 0] += 1
            case .unmatched: counters.notInContainer += 1
            case .unavailable: counters.unavailable += 1
            case .failed(_): counters.databaseFailed += 1
            }
            if remembered { counters.remembered += 1 }
            if !admitted { counters.refusedAtLimit += 1 }
        }
        if let peer = admission.peer {
            switch admission.outcome {
            case .unmatched: logCaller(peer, "caller not recognized: no rule matched", ["rules": "namespace,ancestry,cgroup,lxc_monitor"])
            case .unavailable: logCaller(peer, "caller not identified: /proc could not be read; answered 503")
            case .failed(let error) where databaseFailureLines.allow(0):
                services.logger.error(
                    "callers not identified: the database failed; answered 500 (said once a minute)", metadata: ["error": "\(error)"])
            case .matched, .failed: break
            }
            if !admitted { logCaller(peer, "connection refused: the instance is at its limit", ["instance": instanceName(slot)]) }
        }
        guard admitted else {
            close(descriptor)
            return
        }
        if slot == nil { return refuse(descriptor, admission, nanoseconds: nanoseconds) }
        var byte: UInt8 = 0
        handOff(
            descriptor, admission, nanoseconds: nanoseconds, requestArrived: recv(descriptor, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 1
        )
    }

    /// Queues an admitted connection for the next loop in turn.
    func handOff(_ descriptor: CInt, _ admission: Admission, nanoseconds: Int64, requestArrived: Bool) {
        var admission = admission
        admission.requestArrived = requestArrived
        handoffs[next].append(Handoff(descriptor: descriptor, admission: admission, resolveNanoseconds: nanoseconds))
        next = (next + 1) % loops.count
    }

    /// One info line about a caller, at most once a minute for its process. `metadata` is
    /// worked out only then (an instance's name is a query).
    func logCaller(_ peer: PeerProcess, _ message: Logger.Message, _ metadata: @autoclosure () -> Logger.Metadata = [:]) {
        guard services.logger.logLevel <= .info, callerLines.allow(peer.pid) else { return }
        services.logger.info(
            message, metadata: metadata().merging(["pid": .stringConvertible(peer.pid), "uid": .stringConvertible(peer.uid)]) { $1 })
    }

    /// An instance's name for a log line; its id if it cannot be read.
    private func instanceName(_ id: Int?) -> Logger.MetadataValue {
        guard let id else { return "none" }
        return "\((try? store.guestInstance(id: id))?.name ?? "#\(id)")"
    }

    /// Hands each loop its share in one task: one wake-up a loop, not one a connection.
    /// `waiting`: every loop gets its task, even an empty one (it runs after those handed
    /// over before), and what is returned completes once each loop set up its connections.
    @discardableResult
    func handOff(waiting: Bool) -> [EventLoopFuture<Void>] {
        var adopted: [EventLoopFuture<Void>] = []
        for (index, loop) in loops.enumerated() where waiting || !handoffs[index].isEmpty {
            let batch = handoffs[index]
            handoffs[index].removeAll(keepingCapacity: true)
            if services.logger.logLevel <= .debug {
                for handoff in batch {
                    // tools/bench-scale.sh reads this line to time resolution where it happens.
                    services.logger.debug(
                        "identity resolved",
                        metadata: [
                            "pid": handoff.admission.peer.map { .stringConvertible($0.pid) } ?? "none",
                            "instance": instanceName(handoff.admission.outcome.instanceID),
                            "resolve_ns": .stringConvertible(handoff.resolveNanoseconds),
                        ])
                }
            }
            guard waiting else {
                loop.execute { [self] in batch.forEach { _ = open($0, on: loop) } }
                continue
            }
            adopted.append(
                loop.flatSubmit { [self] in EventLoopFuture<Channel>.andAllComplete(batch.map { open($0, on: loop) }, on: loop) })
        }
        return adopted
    }

    /// Makes the connection's channel, on its loop; the future completes once it is set up
    /// (or failed to be).
    private func open(_ handoff: Handoff, on loop: EventLoop) -> EventLoopFuture<Channel> {
        let slot = handoff.admission.outcome.instanceID
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
        // No TCP_NODELAY, the one option a client bootstrap sets by default: on a Unix socket
        // NIO skips it, but only after asking the socket its address. Dropping it is all that
        // `enableMPTCP` does to a connected socket (it applies when connecting).
        let channel = ClientBootstrap(group: loop)
            .enableMPTCP(true)
            .channelInitializer { channel in
                channel.closeFuture.whenComplete { _ in release() }
                return channel.eventLoop.makeCompletedFuture { try adopt(channel, handoff.admission) }
            }
            .withConnectedSocket(handoff.descriptor)
        channel.whenFailure { _ in release() }
        return channel
    }
}
