import NIOCore
import Testing

@testable import GuestServer

/// Every event in every state of a guest connection, without I/O: what the machine answers
/// and the state it is in afterwards. An event that cannot happen in a state stops a debug
/// build (each such pair is tried in a process of its own).
@Suite("connection state machine")
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine
    typealias State = ConnectionStateMachine.State

    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    static let clocks = Machine.Clocks(request: .seconds(3), idle: .seconds(30))

    /// A machine brought to `state` the way a connection gets there.
    static func machine(in state: State) -> Machine {
        var machine = Machine(clocks: clocks, now: start)
        switch state {
        case .reading:
            break
        case .answering:
            machine.requestTaken()
            machine.answerDeferred()
        case .streaming:
            machine.requestTaken()
            machine.streamStarted()
        case .holding:
            machine.requestTaken()
            machine.holdStarted(until: start + .seconds(60))
        case .sending:
            machine.requestTaken()
            machine.sendingStarted(now: start)
        case .closing:
            machine.requestTaken()
            machine.answered(keepAlive: false, now: start)
        }
        #expect(machine.state == state)
        return machine
    }

    @Test(arguments: State.allCases)
    func deadline(state: State) {
        let expected: [State: NIODeadline?] = [
            .reading: Self.start + .seconds(30), .answering: nil, .streaming: nil,
            .sending: Self.start + .seconds(30), .closing: Self.start + .seconds(30),
            .holding: Self.start + .seconds(60),  // the hold's, not the idle time
        ]
        #expect(Self.machine(in: state).deadline == expected[state]!)
    }

    @Test(arguments: State.allCases)
    func bytesArrive(state: State) {
        #expect(Self.machine(in: state).takesBytes == (state == .reading || state == .answering || state == .sending || state == .holding))
    }

    @Test(arguments: State.allCases, [true, false])
    func mayAnswer(state: State, writable: Bool) {
        #expect(Self.machine(in: state).mayAnswer(writable: writable) == (state == .reading && writable))
    }

    /// Reads are held while an answer is on its way or its body goes out, or while reading
    /// and the peer does not read its answers; a held read is done when the machine resumes.
    @Test(arguments: State.allCases, [true, false])
    func readRequested(state: State, writable: Bool) {
        var machine = Self.machine(in: state)
        let held = state == .answering || state == .sending || state == .holding || (state == .reading && !writable)
        let reads = machine.readRequested(writable: writable)
        #expect(reads == !held)
        #expect(machine.state == state)
        let readsOnResume = machine.resumed(writable: true)
        #expect(readsOnResume == (held && state != .answering && state != .sending && state != .holding))
        let readsAgain = machine.resumed(writable: true)
        #expect(!readsAgain, "a held read is done once")
    }

    @Test(arguments: State.allCases, [true, false])
    func resumed(state: State, writable: Bool) {
        var machine = Self.machine(in: state)
        _ = machine.readRequested(writable: false)  // holds it in reading, answering, sending and holding
        let held = state == .reading || state == .answering || state == .sending || state == .holding
        let reads = machine.resumed(writable: writable)
        #expect(reads == (held && state != .answering && state != .sending && state != .holding && writable))
        #expect(machine.state == state)
    }

    /// The request clock starts at the first byte of a request, once.
    @Test(arguments: [true, false])
    func waiting(partial: Bool) {
        var machine = Self.machine(in: .reading)
        let later = Self.start + .seconds(1)
        let started = machine.waiting(partial: partial, now: later)
        #expect(started == partial)
        let startedAgain = machine.waiting(partial: partial, now: later + .seconds(1))
        #expect(!startedAgain, "the clock starts once")
        if partial { #expect(machine.deadline == later + .seconds(3)) }
        #expect(machine.state == .reading)
    }

    @Test func requestTaken() {
        var machine = Self.machine(in: .reading)
        _ = machine.waiting(partial: true, now: Self.start)
        machine.requestTaken()
        #expect(machine.state == .reading)
        #expect(machine.answered == 1)
        #expect(machine.deadline == Self.start + .seconds(30), "the request clock stops")
    }

    @Test func answerDeferredThenArrived() {
        var machine = Self.machine(in: .reading)
        machine.answerDeferred()
        #expect(machine.state == .answering)
        machine.answerArrived()
        #expect(machine.state == .reading)
    }

    /// An answer written restarts the idle clock; one that does not keep the connection alive
    /// makes it close once sent.
    @Test(arguments: [true, false])
    func answered(keepAlive: Bool) {
        var machine = Self.machine(in: .reading)
        let later = Self.start + .seconds(10)
        machine.answered(keepAlive: keepAlive, now: later)
        #expect(machine.state == (keepAlive ? .reading : .closing))
        #expect(machine.deadline == later + .seconds(30))
    }

    @Test func streamStarted() {
        var machine = Self.machine(in: .reading)
        machine.streamStarted()
        #expect(machine.state == .streaming)
    }

    /// A body sent in pieces: the whole body must go within the idle time.
    @Test func sendingStarted() {
        var machine = Self.machine(in: .reading)
        let later = Self.start + .seconds(10)
        machine.sendingStarted(now: later)
        #expect(machine.state == .sending)
        #expect(machine.deadline == later + .seconds(30))
    }

    /// The last piece written: the connection reads again, or closes after it (and always
    /// closes when told to stop meanwhile).
    @Test(arguments: [true, false])
    func sendingFinished(keepAlive: Bool) {
        var machine = Self.machine(in: .sending)
        let later = Self.start + .seconds(25)
        machine.sendingFinished(keepAlive: keepAlive, now: later)
        #expect(machine.state == (keepAlive ? .reading : .closing))
        #expect(machine.deadline == later + .seconds(30))

        var stopped = Self.machine(in: .sending)
        _ = stopped.notice(.quiesce, partial: false, now: Self.start)
        stopped.sendingFinished(keepAlive: true, now: later)
        #expect(stopped.state == .closing)
    }

    /// A request held for a change: nothing is read meanwhile, and the hold's deadline is the
    /// connection's; once it ends, the connection reads as before (and a held read is done).
    @Test func holdStartedThenEnded() {
        var machine = Self.machine(in: .reading)
        machine.requestTaken()
        machine.holdStarted(until: Self.start + .seconds(5))
        #expect(machine.state == .holding)
        #expect(machine.deadline == Self.start + .seconds(5))
        let reads = machine.readRequested(writable: true)
        #expect(!reads, "nothing is read while a request is held")
        let resumes = machine.resumed(writable: true)
        #expect(!resumes)
        machine.holdEnded()
        #expect(machine.state == .reading)
        machine.answered(keepAlive: true, now: Self.start + .seconds(5))
        #expect(machine.deadline == Self.start + .seconds(35))
        let readsOnResume = machine.resumed(writable: true)
        #expect(readsOnResume, "the read held meanwhile is done")
    }

    /// The events a connection can see only in one state, by name, and that state.
    static let oneStateEvents = [
        "waiting": State.reading, "requestTaken": .reading, "answerDeferred": .reading, "answerArrived": .answering,
        "answered": .reading, "streamStarted": .reading, "sendingStarted": .reading, "sendingFinished": .sending,
        "holdStarted": .reading, "holdEnded": .holding,
    ]

    static func fire(_ event: String, on machine: inout Machine) {
        switch event {
        case "waiting": _ = machine.waiting(partial: true, now: start)
        case "requestTaken": machine.requestTaken()
        case "answerDeferred": machine.answerDeferred()
        case "answerArrived": machine.answerArrived()
        case "answered": machine.answered(keepAlive: true, now: start)
        case "streamStarted": machine.streamStarted()
        case "sendingStarted": machine.sendingStarted(now: start)
        case "sendingFinished": machine.sendingFinished(keepAlive: true, now: start)
        case "holdStarted": machine.holdStarted(until: start + .seconds(1))
        case "holdEnded": machine.holdEnded()
        default: Issue.record("no event \(event)")
        }
    }

    /// Each of those events in every other state is a bug that stops a debug build.
    @Test(arguments: oneStateEvents.keys.sorted(), State.allCases)
    func impossibleEventsStopADebugBuild(event: String, state: State) async {
        guard Self.oneStateEvents[event] != state else { return }
        #if DEBUG
        let stateName = "\(state)"
        await #expect(processExitsWith: .failure) { [event = event as String, stateName = stateName as String] in
            guard let state = State.allCases.first(where: { "\($0)" == stateName }) else { return }
            var machine = ConnectionStateMachineTests.machine(in: state)
            ConnectionStateMachineTests.fire(event, on: &machine)
        }
        #endif
    }

    @Test(arguments: State.allCases)
    func keepsAlive(state: State) {
        var machine = Self.machine(in: state)
        #expect(machine.keepsAlive(requested: true, identified: true))
        #expect(!machine.keepsAlive(requested: false, identified: true))
        #expect(!machine.keepsAlive(requested: true, identified: false), "an unidentified caller gets one answer")
        _ = machine.notice(.quiesce, partial: false, now: Self.start)
        #expect(!machine.keepsAlive(requested: true, identified: true) || state == .streaming, "a stopping connection closes")
    }

    /// Quiescing, or the instance deleted: a stream ends through its sink; an idle connection
    /// that answered closes now; a fresh one, or one mid-request, is answered first if its
    /// request comes whole within the request time from the notice (not the idle time).
    @Test(
        arguments: State.allCases, [(Machine.Notice.quiesce, true), (.quiesce, false), (.instanceDeleted, true), (.instanceDeleted, false)])
    func ending(state: State, notice: (Machine.Notice, partial: Bool)) {
        let (notice, partial) = notice
        var machine = Self.machine(in: state)
        let expected: Machine.NoticeAction =
            switch state {
            case .streaming: .toStream
            case .reading: .rearm  // nothing answered yet: the first request is awaited, 3 s at most
            case .sending: notice == .instanceDeleted ? .close : .none  // a deleted instance's value stops on its way
            case .holding: .answerHeld  // answered at once, as it is now, then closed
            case .answering, .closing: .none
            }
        let noticed = Self.start + .seconds(7)
        let action = machine.notice(notice, partial: partial, now: noticed)
        #expect(action == expected)
        #expect(machine.stopping == (state != .streaming))
        if state == .reading {
            #expect(machine.deadline == noticed + .seconds(3), "not the idle deadline, 30 s after the connection came")
            let again = machine.notice(notice, partial: partial, now: noticed + .seconds(2))
            #expect(again == .rearm)
            #expect(machine.deadline == noticed + .seconds(3), "a second notice does not move the deadline on")
        }

        var served = Self.machine(in: state)
        if state == .reading {
            served.requestTaken()
            served.answered(keepAlive: true, now: Self.start)
            let action = served.notice(notice, partial: partial, now: Self.start)
            #expect(action == (partial ? .rearm : .close))
        }
    }

    /// Re-attached: an idle connection checks that its caller is still the instance's.
    @Test(arguments: State.allCases, [true, false])
    func instanceChanged(state: State, partial: Bool) {
        var machine = Self.machine(in: state)
        let expected: Machine.NoticeAction =
            switch state {
            case .streaming: .toStream
            case .reading: partial ? .none : .checkIdentity
            case .sending: .checkIdentity
            case .holding: .recheckHeld  // its answer is read again, which checks the caller
            case .answering, .closing: .none
            }
        let action = machine.notice(.instanceChanged, partial: partial, now: Self.start)
        #expect(action == expected)
        #expect(!machine.stopping)
        #expect(machine.state == state)
    }

    @Test(arguments: State.allCases)
    func timerFired(state: State) {
        let machine = Self.machine(in: state)
        guard let deadline = machine.deadline else {
            #expect(machine.timerFired(now: Self.start + .seconds(3600)) == .none, "no clock runs in \(state)")
            return
        }
        #expect(machine.timerFired(now: deadline - .milliseconds(1)) == .rearm)
        #expect(machine.timerFired(now: deadline) == (state == .holding ? .answerHeld : .close), "a held request is answered, not cut")
    }
}
