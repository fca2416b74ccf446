import GuestStore
import NIOCore

/// What an event stream does next, decided without I/O: `EventSink` tells it what happened (a
/// replay page was read or written, the hub published, a write completed, a large event went
/// out, the clock) and does the actions it answers. Every (state, event) pair has a test.
///
/// Every matching event is sent exactly once, in id order. The journal, not memory, is the
/// source of truth: the stream replays it from its start, a page at a time, each read only once
/// the last is written; live events that come meanwhile are held, up to the limits, and read
/// from the journal beyond them. Live, a subscriber with more than `maxUndelivered` events or
/// `maxUndeliveredBytes` not yet written to its socket falls behind: what comes next is read
/// from the journal once it has taken what was written, and it is cut off if it takes nothing
/// for `behindGrace`. A large event (`EncodedEvent.isLarge`) goes out in pieces, on its own;
/// what follows it is read from the journal once it is sent, within `largeGrace`.
struct EventStreamMachine {
    enum State: Equatable, CaseIterable {
        /// Reading the journal a page at a time: a page asked for, or one being written.
        case replaying
        /// Sending each event the hub publishes as it comes.
        case live
        /// A large event goes out in pieces.
        case sendingLarge
        /// More waits for the subscriber than it may have: its writes drain first.
        case behind
        case ended
    }

    enum Action {
        /// Read the page after this id (then `pageRead`).
        case readPage(after: Int)
        /// Write a replay page's events; with `thenRead`, call `pageWritten` once the last is
        /// written (a full page: the next is read only then).
        case writePage([EncodedEvent], thenRead: Bool)
        /// Write one live event (then, once written, `liveWritten`).
        case writeLive(EncodedEvent)
        /// Send a large event in pieces (then `largeSent`, or `largeGone` if its entry was pruned).
        case sendLarge(EncodedEvent)
        /// Call `timerFired` at this time.
        case armTimer(NIODeadline)
        /// End the stream: it is over, as said.
        case end(EventSink.Ending)
        /// Cut the subscriber off: it cannot keep up.
        case cut
    }

    static let maxUndelivered = 1000
    static let maxUndeliveredBytes = 4 << 20
    /// How long a subscriber that fell behind may take nothing of what waits for it.
    static let behindGrace = TimeAmount.seconds(5)
    /// How long a large event may take to go out (it holds a database snapshot meanwhile).
    static let largeGrace = TimeAmount.seconds(30)

    private(set) var state = State.replaying
    /// The id of the last event sent (or on its way).
    private(set) var lastSent: Int
    private let kinds: Set<JournalEntry.Kind>
    private let withIDs: Bool
    /// Replaying: the page asked for is not read yet, or its last write is not done.
    private var pageInFlight = false
    /// Live events held while replaying; and whether some were dropped (they are read from
    /// the journal then).
    private(set) var held: [EncodedEvent] = []
    private var heldBytes = 0
    private var heldOverflowed = false
    /// Live events written and not yet taken by the socket.
    private(set) var undelivered = 0
    private var undeliveredBytes = 0
    /// Behind or sending a large event: since when.
    private var since: NIODeadline?

    init(after: Int, kinds: Set<JournalEntry.Kind>, withIDs: Bool) {
        lastSent = after
        self.kinds = kinds
        self.withIDs = withIDs
    }

    mutating func start() -> [Action] {
        guard state == .replaying, !pageInFlight else { return impossible("start", []) }
        pageInFlight = true
        return [.readPage(after: lastSent)]
    }

    /// A replay page: `events` after the id asked for, `full` when more may follow, and the
    /// oldest id kept when it was read.
    mutating func pageRead(_ events: [EncodedEvent], full: Bool, firstKept: Int, now: NIODeadline) -> [Action] {
        guard state == .replaying, pageInFlight else { return state == .ended ? [] : impossible("pageRead", []) }
        // Ids have no gaps and prunes take the oldest: entries after `lastSent` are all there
        // unless the first kept is beyond the next.
        guard firstKept <= lastSent + 1 else { return end(.pruned(after: lastSent)) }
        let small = events.prefix { !$0.isLarge }
        let large = small.count < events.count
        var actions: [Action] = []
        if let last = small.last {
            lastSent = last.id
            // A full page's next is read once it is written: memory stays bounded.
            actions.append(.writePage(Array(small), thenRead: full && !large))
        }
        if large {
            return actions + sendLarge(events[small.count], now: now)
        }
        if full {
            return actions + (small.isEmpty ? readNext() : [])
        }
        pageInFlight = false
        if heldOverflowed {
            heldOverflowed = false
            return actions + readNext()
        }
        state = .live
        let caughtUp = held
        (held, heldBytes) = ([], 0)
        return actions + received(caughtUp, now: now)
    }

    /// The last write of a page is done: the next page.
    mutating func pageWritten() -> [Action] {
        guard state == .replaying, pageInFlight else { return [] }  // the page ended the replay, or the stream ended
        return readNext()
    }

    /// Events the hub published for the instance, in id order.
    mutating func received(_ events: [EncodedEvent], now: NIODeadline) -> [Action] {
        var actions: [Action] = []
        for event in events where kinds.contains(event.kind) && event.id > lastSent {
            switch state {
            case .live:
                if event.isLarge { return actions + sendLarge(event, now: now) }
                let bytes = event.bytes(withID: withIDs)
                if undelivered >= Self.maxUndelivered || undeliveredBytes + bytes > Self.maxUndeliveredBytes {
                    return actions + fallBehind(now: now)
                }
                lastSent = event.id
                undelivered += 1
                undeliveredBytes += bytes
                actions.append(.writeLive(event))
            case .replaying:
                let bytes = event.bytes(withID: withIDs)
                if !heldOverflowed && held.count < Self.maxUndelivered && heldBytes + bytes <= Self.maxUndeliveredBytes {
                    held.append(event)
                    heldBytes += bytes
                } else {
                    heldOverflowed = true
                    (held, heldBytes) = ([], 0)
                }
            case .sendingLarge, .behind, .ended:
                // Read from the journal once what goes out now is out.
                return actions
            }
        }
        return actions
    }

    /// A live event was written (`bytes`: its size, as counted when it was sent).
    mutating func liveWritten(bytes: Int) -> [Action] {
        guard undelivered > 0 else { return impossible("liveWritten", []) }
        undelivered -= 1
        undeliveredBytes -= bytes
        guard state == .behind, undelivered == 0 else { return [] }
        // It took everything: what came meanwhile, from the journal.
        state = .replaying
        since = nil
        return readNext()
    }

    /// The large event went out whole: what follows it, from the journal.
    mutating func largeSent(_ id: Int) -> [Action] {
        guard state == .sendingLarge else { return state == .ended ? [] : impossible("largeSent", []) }
        lastSent = id
        state = .replaying
        since = nil
        (held, heldBytes, heldOverflowed) = ([], 0, false)
        return readNext()
    }

    mutating func timerFired(now: NIODeadline) -> [Action] {
        let grace: TimeAmount
        switch state {
        case .behind: grace = Self.behindGrace
        case .sendingLarge: grace = Self.largeGrace
        case .replaying, .live, .ended: return []  // the clock was for an earlier episode
        }
        guard let since, now >= since + grace else { return [] }
        state = .ended
        return [.cut]
    }

    /// The stream ends, as said (the daemon stops, the instance went, entries were pruned).
    mutating func end(_ ending: EventSink.Ending) -> [Action] {
        guard state != .ended else { return [] }
        state = .ended
        return [.end(ending)]
    }

    private mutating func readNext() -> [Action] {
        pageInFlight = true
        return [.readPage(after: lastSent)]
    }

    private mutating func sendLarge(_ event: EncodedEvent, now: NIODeadline) -> [Action] {
        state = .sendingLarge
        pageInFlight = false
        since = now
        return [.sendLarge(event), .armTimer(now + Self.largeGrace)]
    }

    private mutating func fallBehind(now: NIODeadline) -> [Action] {
        (held, heldBytes, heldOverflowed) = ([], 0, false)
        guard undelivered > 0 else {
            state = .replaying
            return readNext()
        }
        state = .behind
        since = now
        return [.armTimer(now + Self.behindGrace)]
    }

    /// An event that cannot happen in this state: a bug, caught in debug builds; in release,
    /// it changes nothing.
    private func impossible(_ event: String, _ actions: [Action]) -> [Action] {
        assertionFailure("event stream: \(event) in \(state)")
        return actions
    }
}
