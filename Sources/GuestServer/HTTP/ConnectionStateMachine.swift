import NIOCore

/// What a guest connection does next, decided without I/O: `GuestConnectionHandler` tells it
/// what happened (the peer asks to read, a request was taken, an answer went out, the daemon
/// quiesces, the timer fired) and does what it answers. Every (state, event) pair has a test;
/// an event that cannot happen in a state is a bug: it stops a debug build, and changes
/// nothing in a release one.
///
/// The limits on a connection (README, "Limits a guest cannot pass"): a request must arrive whole within 3 s of its first
/// byte, an idle keep-alive connection closes after 30 s. Back-pressure: while the peer has
/// not read earlier answers, or an answer is on its way, nothing more is read and no
/// pipelined request is answered.
struct ConnectionStateMachine {
    enum State: Equatable, CaseIterable {
        /// Reading requests and answering them as they come.
        case reading
        /// An answer is on its way (a state change waits for the writer).
        case answering
        /// An answer's body goes out a piece at a time as the peer reads (`ValueStream`), all
        /// of it within the idle time: its reader holds a database snapshot meanwhile.
        case sending
        /// A request waits for its answer to change (`wait_for_change`), until the hold's
        /// deadline at most; nothing more is read meanwhile.
        case holding
        /// The connection carries an event stream now; what the peer sends is dropped.
        case streaming
        /// The last answer is written; the connection closes once it is sent.
        case closing
    }

    /// The clocks (README, "Limits a guest cannot pass").
    struct Clocks: Sendable {
        var request = TimeAmount.seconds(3)
        var idle = TimeAmount.seconds(30)
    }

    /// What the daemon or the instance asks of the connection.
    enum Notice: Equatable {
        /// The daemon is stopping (NIO's `ChannelShouldQuiesceEvent`).
        case quiesce
        /// The instance was deleted.
        case instanceDeleted
        /// The instance was re-attached: a caller outside its new process tree must go.
        case instanceChanged
    }

    enum NoticeAction: Equatable {
        case none
        case close
        /// The deadline moved closer: arm the timer for it.
        case rearm
        /// The event stream ends or checks itself (`EventSink`).
        case toStream
        /// Close unless the caller is still the instance's.
        case checkIdentity
        /// Answer the held request now, whatever its answer is.
        case answerHeld
        /// Read the held request's answer again: answer if it changed, else hold on.
        case recheckHeld
    }

    enum TimerAction: Equatable {
        case none
        case close
        /// Fired early (the deadline moved on): arm it again for `deadline`.
        case rearm
        /// The hold's time is up: answer it as it is now.
        case answerHeld
    }

    private(set) var state = State.reading
    /// The daemon is stopping, or the instance ended: the request in flight is answered, then
    /// the connection closes.
    private(set) var stopping = false
    /// Requests taken so far.
    private(set) var answered = 0
    /// A read was held back for back-pressure.
    private var readHeld = false
    /// Since when the connection has waited for a request (or, sending, since the head went
    /// out), and since when for the rest of one.
    private var idleSince: NIODeadline
    private var requestSince: NIODeadline?
    /// Once stopping: the first request must come whole by then (the request clock, from the notice).
    private var stopDeadline = NIODeadline.distantFuture
    /// Holding: when the held request is answered, changed or not.
    private var holdDeadline = NIODeadline.distantFuture
    private let clocks: Clocks

    init(clocks: Clocks, now: NIODeadline) {
        self.clocks = clocks
        idleSince = now
    }

    /// When the connection closes unless something happens; nil while an answer is on its
    /// way or a stream runs. A closing connection gets the idle time to take its last answer,
    /// and a sending one to take the whole body, however it reads; a stopping one waiting for
    /// its first request, the request time.
    var deadline: NIODeadline? {
        switch state {
        case .reading: min(requestSince.map { $0 + clocks.request } ?? idleSince + clocks.idle, stopDeadline)
        case .closing, .sending: idleSince + clocks.idle
        case .holding: holdDeadline
        case .answering, .streaming: nil
        }
    }

    /// Bytes from the peer are kept for parsing (else dropped: a stream or a last answer runs).
    var takesBytes: Bool { state == .reading || state == .answering || state == .sending || state == .holding }

    /// Whether a whole request may be taken and answered now.
    func mayAnswer(writable: Bool) -> Bool { state == .reading && writable }

    /// NIO asks to read: true to read, false when held back until the peer or the answer catches up.
    mutating func readRequested(writable: Bool) -> Bool {
        if state == .answering || state == .sending || state == .holding || (state == .reading && !writable) {
            readHeld = true
            return false
        }
        return true
    }

    /// The parser needs more bytes; `partial` when some of a request came. True when that
    /// starts the request's clock (the timer must be armed for it). `now` is read only then.
    mutating func waiting(partial: Bool, now: @autoclosure () -> NIODeadline) -> Bool {
        guard state == .reading else { return impossible("waiting", false) }
        guard requestSince == nil, partial else { return false }
        requestSince = now()
        return true
    }

    /// A whole request was parsed.
    mutating func requestTaken() {
        guard state == .reading else { return impossible("requestTaken", ()) }
        requestSince = nil
        answered += 1
    }

    /// The answer comes later (a write through the store's writer).
    mutating func answerDeferred() {
        guard state == .reading else { return impossible("answerDeferred", ()) }
        state = .answering
    }

    mutating func answerArrived() {
        guard state == .answering else { return impossible("answerArrived", ()) }
        state = .reading
    }

    /// The request just taken waits for its answer to change, until `deadline` at most.
    mutating func holdStarted(until deadline: NIODeadline) {
        guard state == .reading else { return impossible("holdStarted", ()) }
        state = .holding
        holdDeadline = deadline
    }

    /// The held request is answered now (it changed, its time is up, or the connection must end).
    mutating func holdEnded() {
        guard state == .holding else { return impossible("holdEnded", ()) }
        state = .reading
        holdDeadline = .distantFuture
    }

    /// Whether the answer keeps the connection open: the peer wants it, the caller is
    /// identified (unidentified callers get one answer), and nothing ends the connection.
    func keepsAlive(requested: Bool, identified: Bool) -> Bool { requested && identified && !stopping }

    /// An answer was written: the connection waits for the next request, or closes after it.
    mutating func answered(keepAlive: Bool, now: NIODeadline) {
        guard state == .reading else { return impossible("answered", ()) }
        idleSince = now
        if !keepAlive { state = .closing }
    }

    /// The head of an answer is written and its body goes out in pieces from now on.
    mutating func sendingStarted(now: NIODeadline) {
        guard state == .reading else { return impossible("sendingStarted", ()) }
        state = .sending
        idleSince = now
    }

    /// The body's last piece is written: the connection waits for the next request, or closes
    /// after it (a connection told to stop meanwhile closes).
    mutating func sendingFinished(keepAlive: Bool, now: NIODeadline) {
        guard state == .sending else { return impossible("sendingFinished", ()) }
        idleSince = now
        state = keepAlive && !stopping ? .reading : .closing
    }

    /// The connection carries an event stream from now on.
    mutating func streamStarted() {
        guard state == .reading else { return impossible("streamStarted", ()) }
        state = .streaming
    }

    /// After an answer that waited, or once the peer reads again (and pipelined requests were
    /// answered): true to read now a read that was held back.
    mutating func resumed(writable: Bool) -> Bool {
        guard readHeld && state != .answering && state != .sending && state != .holding && writable else { return false }
        readHeld = false
        return true
    }

    /// `partial`: part of a request was read. A connection that answered requests and waits
    /// for none closes now; one just made gets its first request answered (its bytes may be on
    /// their way: the client connected to be answered), if it comes whole within the request
    /// time from now (`.rearm`: the deadline moved closer).
    /// A held request is answered at once when the daemon stops or the instance ends (with the
    /// answer it has then), and read again when the instance changed.
    mutating func notice(_ notice: Notice, partial: Bool, now: NIODeadline) -> NoticeAction {
        if state == .streaming { return .toStream }
        if state == .holding {
            guard notice != .instanceChanged else { return .recheckHeld }
            if !stopping { stopDeadline = now + clocks.request }
            stopping = true
            return .answerHeld
        }
        switch notice {
        case .quiesce, .instanceDeleted:
            if !stopping { stopDeadline = now + clocks.request }
            stopping = true
            // A deleted instance's value stops on its way; a body goes on while the daemon drains.
            if state == .sending { return notice == .instanceDeleted ? .close : .none }
            guard state == .reading else { return .none }
            return answered > 0 && !partial ? .close : .rearm
        case .instanceChanged:
            return (state == .reading && !partial) || state == .sending ? .checkIdentity : .none
        }
    }

    func timerFired(now: NIODeadline) -> TimerAction {
        guard let deadline else { return .none }  // armed again when the answer is out
        guard deadline <= now else { return .rearm }
        return state == .holding ? .answerHeld : .close
    }

    /// An event that cannot happen in this state: a bug, caught in debug builds; in release,
    /// it changes nothing.
    private func impossible<T>(_ event: String, _ result: T) -> T {
        assertionFailure("connection: \(event) in \(state)")
        return result
    }
}
