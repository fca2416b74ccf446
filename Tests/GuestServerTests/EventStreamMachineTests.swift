import GuestStore
import NIOCore
import Testing

@testable import GuestServer

/// Every event an event stream can meet, in every state, without I/O: the actions the machine
/// answers and the state it is in afterwards. (An event that cannot happen in a state, a bug,
/// stops a debug build: `impossibleEventsStopADebugBuild`.)
@Suite("event stream machine")
struct EventStreamMachineTests {
    typealias Machine = EventStreamMachine
    typealias State = EventStreamMachine.State

    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    /// A config event with this id; large ones are read without their values.
    static func event(_ id: Int, large: Bool = false, kind: JournalEntry.Kind = .config) -> EncodedEvent {
        let entry = JournalEntry(
            id: id, timestampNs: 1, instanceID: 1, instance: "c1", kind: kind, name: "user.k",
            oldValue: large ? nil : [], value: large ? nil : [0x61],
            leftOut: large ? .init(old: 0, new: 100_000) : nil)
        return EncodedEvent(entry, fileEpoch: 1)
    }

    static func events(_ ids: ClosedRange<Int>) -> [EncodedEvent] { ids.map { event($0) } }

    /// The actions, as words that compare.
    static func said(_ actions: [Machine.Action]) -> [String] {
        actions.map { action in
            switch action {
            case .readPage(let after): "read after \(after)"
            case .writePage(let events, let thenRead): "page \(events.map(\.id))" + (thenRead ? " then read" : "")
            case .writeLive(let event): "live \(event.id)"
            case .sendLarge(let event): "large \(event.id)"
            case .armTimer(let deadline): "timer +\((deadline - start).nanoseconds / 1_000_000_000) s"
            case .end(let ending): "end \(ending)"
            case .cut: "cut"
            }
        }
    }

    /// A machine brought to `state` the way a stream gets there (its last sent: 10).
    static func machine(in state: State) -> Machine {
        var machine = Machine(after: 0, kinds: [.config, .device], withIDs: true)
        _ = machine.start()
        switch state {
        case .replaying:
            break
        case .live:
            _ = machine.pageRead(events(1...10), full: false, firstKept: 1, now: start)
        case .sendingLarge:
            _ = machine.pageRead(events(1...10) + [event(11, large: true)], full: false, firstKept: 1, now: start)
        case .behind:
            _ = machine.pageRead(events(1...10), full: false, firstKept: 1, now: start)
            _ = machine.received(events(11...(10 + Machine.maxUndelivered + 1)), now: start)
        case .ended:
            _ = machine.pageRead(events(1...10), full: false, firstKept: 1, now: start)
            _ = machine.end(.shutdown)
        }
        #expect(machine.state == state)
        return machine
    }

    @Test func startReadsTheFirstPage() {
        var machine = Machine(after: 7, kinds: [.config], withIDs: false)
        #expect(Self.said(machine.start()) == ["read after 7"])
        #expect(machine.state == .replaying)
    }

    // MARK: pageRead (only while replaying, a page asked for)

    @Test func aFullPageIsWrittenAndTheNextReadOnceItIs() {
        var machine = Self.machine(in: .replaying)
        #expect(Self.said(machine.pageRead(Self.events(1...3), full: true, firstKept: 1, now: Self.start)) == ["page [1, 2, 3] then read"])
        #expect(machine.state == .replaying && machine.lastSent == 3)
        #expect(Self.said(machine.pageWritten()) == ["read after 3"])
    }

    @Test func aLastPageGoesLiveWithWhatWasHeld() {
        var machine = Self.machine(in: .replaying)
        _ = machine.received(Self.events(2...3) + [Self.event(4, kind: .lifecycle)], now: Self.start)
        #expect(machine.held.map(\.id) == [2, 3], "held while replaying; kinds not asked for never")
        let actions = machine.pageRead(Self.events(1...2), full: false, firstKept: 1, now: Self.start)
        #expect(Self.said(actions) == ["page [1, 2]", "live 3"], "2 came in the page: sent once")
        #expect(machine.state == .live && machine.held.isEmpty)
        #expect(Self.said(machine.pageWritten()) == [], "a last page's write asks nothing")
    }

    @Test func heldEventsBeyondTheLimitAreReadFromTheJournal() {
        var machine = Self.machine(in: .replaying)
        _ = machine.received(Self.events(1...(Machine.maxUndelivered + 1)), now: Self.start)
        #expect(machine.held.isEmpty, "dropped: the journal has them")
        #expect(
            Self.said(machine.pageRead(Self.events(1...5), full: false, firstKept: 1, now: Self.start)) == [
                "page [1, 2, 3, 4, 5]", "read after 5",
            ])
        #expect(machine.state == .replaying)
    }

    @Test func aPrunedStartEndsTheStream() {
        var machine = Self.machine(in: .replaying)
        #expect(Self.said(machine.pageRead([], full: false, firstKept: 5, now: Self.start)) == ["end pruned(after: 0)"])
        #expect(machine.state == .ended)
    }

    @Test func aLargeEventInAPageGoesOutOnItsOwn() {
        var machine = Self.machine(in: .replaying)
        let page = Self.events(1...2) + [Self.event(3, large: true)] + Self.events(4...5)
        #expect(Self.said(machine.pageRead(page, full: true, firstKept: 1, now: Self.start)) == ["page [1, 2]", "large 3", "timer +30 s"])
        #expect(machine.state == .sendingLarge && machine.lastSent == 2)
        #expect(Self.said(machine.pageWritten()) == [], "the page after the large event is read once it is out")
    }

    @Test func aPageArrivingAfterTheEndIsDropped() {
        var machine = Self.machine(in: .ended)
        #expect(Self.said(machine.pageRead(Self.events(11...12), full: false, firstKept: 1, now: Self.start)) == [])
    }

    // MARK: received

    @Test(arguments: State.allCases)
    func eventsFromTheHub(state: State) {
        var machine = Self.machine(in: state)
        let before = machine.lastSent
        let actions = Self.said(machine.received([Self.event(5)] + Self.events(20...21), now: Self.start))
        switch state {
        case .live:
            #expect(actions == ["live 20", "live 21"], "5 was sent already")
            #expect(machine.undelivered == 2)
        case .replaying:
            #expect(actions == [] && machine.held.map(\.id) == [5, 20, 21])
        case .sendingLarge, .behind, .ended:
            #expect(actions == [] && machine.lastSent == before, "read from the journal later")
        }
        #expect(machine.state == state)
    }

    @Test func aLargeLiveEventStopsTheRestUntilItIsOut() {
        var machine = Self.machine(in: .live)
        let actions = machine.received([Self.event(11), Self.event(12, large: true), Self.event(13)], now: Self.start)
        #expect(Self.said(actions) == ["live 11", "large 12", "timer +30 s"])
        #expect(Self.said(machine.largeSent(12)) == ["read after 12"])
        #expect(machine.state == .replaying)
    }

    /// Over the limit, a subscriber falls behind: read from the journal once it took what was
    /// written, cut off if it takes nothing for the grace.
    @Test func aSubscriberThatCannotKeepUpFallsBehind() {
        var machine = Self.machine(in: .live)
        let actions = Self.said(machine.received(Self.events(11...(10 + Machine.maxUndelivered + 1)), now: Self.start))
        #expect(actions.count == Machine.maxUndelivered + 1 && actions.last == "timer +5 s")
        #expect(machine.state == .behind)
        for _ in 1..<Machine.maxUndelivered { #expect(machine.liveWritten(bytes: 0).isEmpty) }
        #expect(Self.said(machine.liveWritten(bytes: 0)) == ["read after \(10 + Machine.maxUndelivered)"])
        #expect(machine.state == .replaying)
    }

    // MARK: the clock

    @Test(arguments: State.allCases)
    func timerFired(state: State) {
        var machine = Self.machine(in: state)
        let grace: TimeAmount? =
            switch state {
            case .behind: Machine.behindGrace
            case .sendingLarge: Machine.largeGrace
            case .replaying, .live, .ended: nil
            }
        guard let grace else {
            #expect(Self.said(machine.timerFired(now: Self.start + .seconds(3600))) == [], "no clock runs in \(state)")
            return
        }
        #expect(Self.said(machine.timerFired(now: Self.start + grace - .milliseconds(1))) == [])
        #expect(Self.said(machine.timerFired(now: Self.start + grace)) == ["cut"])
        #expect(machine.state == .ended)
    }

    // MARK: writes done, large events sent, ends

    @Test(arguments: State.allCases)
    func liveWritten(state: State) {
        var machine = Self.machine(in: state)
        guard machine.undelivered > 0 else { return }  // only a write made can be done
        let actions = Self.said(machine.liveWritten(bytes: 0))
        #expect(actions == [])
        #expect(machine.state == state)
    }

    @Test func largeSentAfterTheEndIsDropped() {
        var machine = Self.machine(in: .sendingLarge)
        _ = machine.end(.instanceGone("deleted"))
        #expect(Self.said(machine.largeSent(11)) == [])
    }

    @Test(arguments: State.allCases)
    func end(state: State) {
        var machine = Self.machine(in: state)
        let actions = Self.said(machine.end(.pruned(after: 3)))
        #expect(actions == (state == .ended ? [] : ["end pruned(after: 3)"]))
        #expect(machine.state == .ended)
        #expect(Self.said(machine.received(Self.events(30...31), now: Self.start)) == [])
    }

    /// An event that cannot happen stops a debug build (release goes on unchanged).
    @Test func impossibleEventsStopADebugBuild() async {
        #if DEBUG
        await #expect(processExitsWith: .failure) {
            var machine = EventStreamMachine(after: 0, kinds: [.config], withIDs: false)
            _ = machine.start()
            _ = machine.start()
        }
        await #expect(processExitsWith: .failure) {
            var machine = EventStreamMachine(after: 0, kinds: [.config], withIDs: false)
            _ = machine.liveWritten(bytes: 1)
        }
        #endif
    }
}
