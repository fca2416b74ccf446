import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Callers no instance owns: answered by the acceptor itself (`CallerRefusal`), once their
/// request is there, and closed; never given a channel on a loop, unless only part of a request
/// came. One that has sent nothing yet waits among the `WaitingStrangers`, for the request time
/// at most.
extension Acceptor {
    /// What became of a stranger's connection.
    enum Refused {
        /// Answered and closed.
        case answered
        /// Its peer left before a whole request: closed.
        case left
        /// Nothing came yet: it stays open.
        case waiting
        /// Part of a request came: for a loop to wait for the rest.
        case partial
    }

    /// A stranger just admitted: answered now if it can be, else held until bytes come.
    func refuse(_ descriptor: CInt, _ admission: Admission, nanoseconds: Int64) {
        switch answer(descriptor, admission.outcome) {
        case .answered, .left: break
        case .waiting: strangers.add(descriptor, admission: admission, deadline: .now() + services.limits.clocks.request)
        case .partial: handOff(descriptor, admission, nanoseconds: nanoseconds, requestArrived: true)
        }
    }

    /// Strangers answered at a time: the rest (still readable) at the next poll, so that a
    /// burst of strangers' requests never keeps the thread from accepting and resolving.
    static let strangersAtATime = 32

    /// Goes on with some of the strangers whose sockets polled readable (`ready`), and lets go
    /// of those whose request time is up (closed unanswered, as a loop closes them).
    func serveStrangers(ready: some Sequence<CInt>) {
        for socket in ready.prefix(Self.strangersAtATime) {
            guard let admission = strangers.admission(of: socket) else { continue }
            switch answer(socket, admission.outcome) {
            case .waiting: continue
            case .answered, .left: strangers.remove(socket)
            case .partial:
                strangers.remove(socket)
                handOff(socket, admission, nanoseconds: 0, requestArrived: true)
            }
        }
        for socket in strangers.expired(at: .now()) { letGo(socket) }
    }

    /// The daemon stops: strangers that sent nothing are let go of.
    func dropStrangers() {
        for socket in strangers.removeAll() { letGo(socket) }
    }

    private func letGo(_ socket: CInt) {
        close(socket)
        services.limiter.release(nil)
    }

    /// Answers a stranger whose whole request is there, and closes it.
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
        guard peeked > 0 else { return .waiting }
        guard let refusal = CallerRefusal(received: received, outcome: outcome, limits: limits, allocator: allocator) else {
            return .partial
        }
        // All that came is taken off the socket (a stranger gets one answer): one closed with
        // bytes unread is reset, and its peer may lose the answer.
        received.withUnsafeMutableReadableBytes { _ = recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        refusal.bytes.withUnsafeReadableBytes { _ = send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        letGo(descriptor)
        let seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        let status = Int(refusal.response.status.code)
        services.metrics.refusals.withLockedValue { $0.request(refusal.endpoint, status: status, seconds: seconds) }
        if services.logger.logLevel <= .debug {
            AccessLog.request(
                refusal.request, status: status, instance: nil, bytes: refusal.response.bodyBytes, seconds: seconds,
                logger: services.logger)
        }
        return .answered
    }
}
