import GuestStore
import NIOCore
import NIOWebSocket

/// One subscriber's stream: replays the journal after its start id, then goes live, sending
/// every matching event exactly once, in id order, or ending with a reason. Framed for its
/// transport in `EventSink+Transport.swift`.
///
/// The seam: the sink registers with the hub *before* reading the journal, holds live events
/// while it replays, and drops any event whose id it already sent. If it falls too far behind
/// while replaying, it drops the held events and reads them from the journal instead: the
/// journal, not memory, is the source of truth.
///
/// Memory is bounded in events and in bytes: a replay page holds at most
/// `ReplayReader.pageEvents` events and `ReplayReader.pageBytes` of values (or one entry, if
/// larger), and the next is read only once the peer has taken it; a subscriber with more than
/// `maxUndelivered` events or `maxUndeliveredBytes` not yet written to its socket is cut off
/// (with replay it resumes losing nothing).
///
/// Lives on its channel's event loop; only `instanceID` and `eventLoop` are read elsewhere,
/// which is why it is `@unchecked Sendable`.
final class EventSink: @unchecked Sendable {
    /// Why a stream ends before its client leaves.
    enum Ending: Equatable {
        /// The daemon stops: WebSocket close 1001.
        case shutdown
        /// The instance was deleted, or the process is no longer its: close 1000 with the reason.
        case instanceGone(String)
        /// Entries after this id were pruned before the subscriber got them: close 4410, or the
        /// plain stream's last line says so. The client resumes with `since=` and gets 410.
        case pruned(after: Int)
    }

    static let maxUndelivered = 1000
    static let maxUndeliveredBytes = 4 << 20

    let instanceID: Int
    let eventLoop: EventLoop
    let channel: Channel
    private let subscription: EventSubscription
    let transport: Transport
    private let services: Services
    /// This loop's counters, looked up once.
    private let counters: Metrics.LoopCounters
    private let connection: ConnectionContext
    private var lastSent: Int
    private var replaying = true
    private var held: [EncodedEvent] = []
    private var heldBytes = 0
    private var heldOverflowed = false
    private var undelivered = 0
    private var undeliveredBytes = 0
    private var closed = false
    private var lastWrite: EventLoopFuture<Void>?
    /// Counts falling behind and catching up: odd while behind (see `fallBehind`).
    private var behind = 0

    init(channel: Channel, subscription: EventSubscription, transport: Transport, services: Services, connection: ConnectionContext) {
        self.instanceID = subscription.instanceID
        self.eventLoop = channel.eventLoop
        self.channel = channel
        self.subscription = subscription
        self.transport = transport
        self.services = services
        self.connection = connection
        self.lastSent = subscription.after
        self.counters = services.metrics.on(channel.eventLoop)
    }

    func start() {
        services.events.add(self)
        channel.closeFuture.whenComplete { [self] _ in
            closed = true
            services.events.remove(self)
        }
        replayNextPage()
    }

    /// Live events from the hub.
    func receive(_ events: [EncodedEvent]) {
        guard !closed else { return }
        for event in events where subscription.kinds.contains(event.kind) && event.id > lastSent {
            if !replaying {
                send(event)
            } else if !heldOverflowed && held.count < Self.maxUndelivered
                        && heldBytes + event.payload(withID: subscription.withIDs).readableBytes <= Self.maxUndeliveredBytes {
                held.append(event)
                heldBytes += event.payload(withID: subscription.withIDs).readableBytes
            } else {
                heldOverflowed = true
                held = []
                heldBytes = 0
            }
        }
        channel.flush()
    }

    /// The instance was deleted or re-attached: the stream goes on only if its process still
    /// belongs to the instance.
    func instanceChanged(_ change: InstanceChange) {
        guard !closed else { return }
        switch change {
        case .ended(let reason):
            end(.instanceGone(reason))
        case .changed:
            // The connection's one door, as every request asks it.
            let store = services.stores.reader(on: eventLoop)
            guard (try? connection.instance(rules: services.rules, store: store)) == nil else { return }
            let instance: GuestInstance? = try? store.guestInstance(id: instanceID)
            let running = instance?.stopped == false
            end(.instanceGone(running ? "the process is no longer in the instance" : "instance deleted or stopped"))
        }
    }

    /// Ends the stream: a WebSocket gets a close frame, a plain stream its last chunk.
    func end(_ ending: Ending) {
        guard !closed else { return }
        closed = true
        var last = channel.allocator.buffer(capacity: 64)
        switch transport {
        case .webSocket:
            let (code, reason): (WebSocketErrorCode, String) = switch ending {
            case .shutdown: (.goingAway, "")
            case .instanceGone(let reason): (.normalClosure, reason)
            case .pruned(let id): (WebSocketErrorCode(codeNumber: 4410), "journal pruned past \(id)")
            }
            last.write(webSocketErrorCode: code)
            last.writeString(reason)
            channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: last)).whenComplete { [channel] _ in
                channel.close(promise: nil)
            }
            return
        case .chunked, .plain:
            if case .pruned(let id) = ending {
                var line = JSONWriter()
                line.raw("{\"type\":\"error\",\"error\":")
                line.string("journal pruned past \(id)")
                line.raw("}\n")
                frame(ByteBuffer(bytes: line.bytes), into: &last)
            }
            if transport == .chunked { last.writeStaticString("0\r\n\r\n") }
            channel.writeAndFlush(last).whenComplete { [channel] _ in channel.close(promise: nil) }
        }
    }

    /// Reads and sends the next page of the journal; once it is written, the next.
    private func replayNextPage() {
        guard !closed else { return }
        let after = lastSent
        // Read in a snapshot begun now (after the sink registered with the hub, so it sees
        // every commit the hub may not), with the prune check in the same snapshot.
        services.replays.page(instanceID: instanceID, after: after, kinds: subscription.kinds,
                              withIDs: subscription.withIDs, on: eventLoop).whenComplete { [self] result in
            switch result {
            case .success(let page): replay(page, after: after)
            case .failure(let error):
                guard !closed else { return }
                services.logger.error("event replay failed", metadata: ["error": "\(error)"])
                channel.close(promise: nil)
            }
        }
    }

    private func replay(_ page: ReplayReader.Page, after: Int) {
        guard !closed else { return }
        // Ids have no gaps and prunes take the oldest: entries after `after` are all there
        // unless the first kept is beyond the next.
        guard page.firstKept <= after + 1 else { return end(.pruned(after: after)) }
        // Only the page's last write is awaited.
        for (i, event) in page.events.enumerated() {
            send(event, tracked: i == page.events.count - 1)
        }
        guard !page.full else {
            // Wait until this page is written before reading the next: memory stays bounded. (A
            // write that failed: the connection is gone, and so is the need for more.)
            channel.flush()
            (lastWrite ?? eventLoop.makeSucceededVoidFuture()).whenSuccess { [self] in replayNextPage() }
            return
        }
        if heldOverflowed {
            heldOverflowed = false
            return replayNextPage()
        }
        replaying = false
        let caughtUp = held
        held = []
        heldBytes = 0
        receive(caughtUp)
    }

    /// `tracked`: counts as undelivered until written, and becomes `lastWrite`. A replay page
    /// is bounded and awaited whole, so only its last write needs to be.
    private func send(_ event: EncodedEvent, tracked: Bool = true) {
        guard !closed else { return }
        let payload = event.payload(withID: subscription.withIDs)
        guard tracked else {
            counters.eventsDelivered += 1
            lastSent = event.id
            return write(payload, promise: nil)
        }
        // A replay page is bounded and awaited whole: only live events can pile up.
        if !replaying && (undelivered >= Self.maxUndelivered || undeliveredBytes + payload.readableBytes > Self.maxUndeliveredBytes) {
            return fallBehind()
        }
        lastSent = event.id
        counters.eventsDelivered += 1
        undelivered += 1
        undeliveredBytes += payload.readableBytes
        let written = eventLoop.makePromise(of: Void.self)
        write(payload, promise: written)
        let size = payload.readableBytes
        written.futureResult.whenComplete { [self] _ in
            undelivered -= 1
            undeliveredBytes -= size
        }
        lastWrite = written.futureResult
    }

    /// More waits for this subscriber than it may have: what comes next is not kept in memory
    /// but read from the journal once the peer has taken what was written (a burst bigger than
    /// the limit, from one commit, costs a reader that keeps up nothing). A peer that takes
    /// nothing for `behindGrace` cannot keep up: it is cut off (with replay it resumes losing
    /// nothing).
    private func fallBehind() {
        guard !replaying else { return }
        replaying = true
        heldOverflowed = true
        held = []
        heldBytes = 0
        channel.flush()
        behind += 1
        let episode = behind
        (lastWrite ?? eventLoop.makeSucceededVoidFuture()).whenSuccess { [self] in
            behind += 1
            replayNextPage()
        }
        eventLoop.scheduleTask(in: Self.behindGrace) { [self] in
            guard !closed, behind == episode else { return }
            closed = true
            counters.streamsCut += 1
            channel.close(promise: nil)
        }
    }

    /// How long a subscriber may take nothing of what waits for it.
    static let behindGrace = TimeAmount.seconds(5)
}
