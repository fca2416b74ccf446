import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Callers no instance owns: answered by the acceptor itself (`CallerRefusal`), once their
/// request is there, and closed; never given a channel on a loop. One whose request has not
/// come whole waits among the `WaitingStrangers` for the request time at most.
extension Acceptor {
    /// What became of a stranger's connection.
    enum Refused {
        /// Answered and closed.
        case answered
        /// Its peer left before a whole request: closed.
        case left
        /// Its request is not whole yet: it stays open.
        case waiting
    }

    /// A stranger just admitted: answered now if it can be, else held until it can.
    func refuse(_ descriptor: CInt, _ outcome: Resolution.Outcome) {
        if answer(descriptor, outcome) == .waiting {
            strangers.add(descriptor, outcome: outcome, deadline: .now() + services.limits.clocks.request)
        }
    }

    /// Strangers answered at a time: the rest (still readable) at the next poll, so that a
    /// burst of strangers' requests never keeps the thread from accepting and resolving.
    static let strangersAtATime = 32

    /// Goes on with some of the strangers whose sockets polled readable (`ready`), and lets go
    /// of those whose request time is up (closed unanswered, as a loop closes them).
    func serveStrangers(ready: some Sequence<CInt>) {
        for socket in ready.prefix(Self.strangersAtATime) {
            guard let outcome = strangers.outcome(of: socket), answer(socket, outcome) != .waiting else { continue }
            strangers.remove(socket)
        }
        for socket in strangers.expired(at: .now()) { letGo(socket) }
    }

    /// The daemon stops: strangers still waiting for their request are let go of.
    func dropStrangers() {
        for socket in strangers.removeAll() { letGo(socket) }
    }

    private func letGo(_ socket: CInt) {
        close(socket)
        services.limiter.release(nil)
    }

    /// Answers a stranger whose whole request is there (taken off the socket first: one closed
    /// with bytes unread is reset, and its peer may lose the answer), and closes it.
    private func answer(_ descriptor: CInt, _ outcome: Resolution.Outcome) -> Refused {
        let started = NIODeadline.now()
        let limits = services.limits.request
        let most = limits.maxHeadBytes + limits.maxBodyBytes + 1
        received.clear()
        var peeked = 0
        received.writeWithUnsafeMutableBytes(minimumWritableBytes: most) { space in
            peeked = recv(descriptor, space.baseAddress, most, Int32(MSG_PEEK | MSG_DONTWAIT))
            return max(0, peeked)
        }
        if peeked == 0 || (peeked < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            letGo(descriptor)
            return .left
        }
        guard peeked > 0, let refusal = CallerRefusal(received: received, outcome: outcome, limits: limits, allocator: allocator) else {
            return .waiting
        }
        received.withUnsafeMutableReadableBytes { _ = recv(descriptor, $0.baseAddress, refusal.consumed, Int32(MSG_DONTWAIT)) }
        refusal.bytes.withUnsafeReadableBytes { _ = send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        letGo(descriptor)
        let seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        let status = Int(refusal.response.status.code)
        services.metrics.refusals.withLockedValue { $0.request(refusal.endpoint, status: status, seconds: seconds) }
        if services.logger.logLevel <= .debug {
            services.logger.debug("request", metadata: [
                "method": "\(refusal.request?.method.rawValue ?? "-")", "path": "\(refusal.request.map { String($0.path) } ?? "-")",
                "status": "\(status)", "instance": "none", "bytes": "\(refusal.response.bodyBytes)", "us": "\(Int(seconds * 1e6))",
            ])
        }
        return .answered
    }
}
