import GuestJSON
import GuestStore
import NIOCore
import NIOWebSocket

/// One subscriber's stream: does what its `EventStreamMachine` decides (replays the journal
/// after its start id, then goes live, sending every matching event exactly once, in id order,
/// or ends with a reason), framed for its transport (`EventSink+Transport.swift`); a large
/// event goes out in pieces (`EventSink+Large.swift`).
///
/// The seam: the sink registers with the hub *before* reading the journal, so that it sees
/// every event either live or in the journal; the machine drops any event whose id it already
/// sent.
///
/// Lives on its channel's event loop; only `instanceID` and `eventLoop` are read elsewhere,
/// which is why it is `@unchecked Sendable`.
final class EventSink: EventListener, @unchecked Sendable {
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

    let instanceID: Int
    let eventLoop: EventLoop
    let channel: Channel
    let subscription: EventSubscription
    let transport: Transport
    let services: Services
    /// This loop's counters, looked up once.
    let counters: Metrics.LoopCounters
    private let connection: ConnectionContext
    var machine: EventStreamMachine
    /// The connection closed: nothing more is done.
    private(set) var closed = false
    private var timer: Scheduled<Void>?
    /// The large event going out, if one is (`EventSink+Large.swift`).
    var large: LargeSending?

    init(channel: Channel, subscription: EventSubscription, transport: Transport, services: Services, connection: ConnectionContext) {
        self.instanceID = subscription.instanceID
        self.eventLoop = channel.eventLoop
        self.channel = channel
        self.subscription = subscription
        self.transport = transport
        self.services = services
        self.connection = connection
        self.counters = services.metrics.on(channel.eventLoop)
        machine = EventStreamMachine(after: subscription.after, kinds: subscription.kinds, withIDs: subscription.withIDs)
    }

    func start() {
        services.events.add(self)
        channel.closeFuture.whenComplete { [self] _ in
            closed = true
            timer?.cancel()
            stopLarge()
            services.events.remove(self)
        }
        perform(machine.start())
    }

    /// Live events from the hub.
    func receive(_ events: [EncodedEvent]) {
        guard !closed else { return }
        perform(machine.received(events, now: .now()))
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
            guard (try? connection.instance(host: services.host, store: store)) == nil else { return }
            let instance: GuestInstance? = try? store.guestInstance(id: instanceID)
            let running = instance?.stopped == false
            end(.instanceGone(running ? "the process is no longer in the instance" : "instance deleted or stopped"))
        }
    }

    /// Ends the stream: a WebSocket gets a close frame, a plain stream its last chunk.
    func end(_ ending: Ending) {
        guard !closed else { return }
        perform(machine.end(ending))
    }

    /// Does what the machine said.
    func perform(_ actions: [EventStreamMachine.Action]) {
        for action in actions where !closed {
            switch action {
            case .readPage(let after):
                readPage(after: after)
            case .writePage(let events, let thenRead):
                for event in events.dropLast() { write(event.payload(withID: subscription.withIDs), promise: nil) }
                counters.eventsDelivered += events.count
                let written: EventLoopPromise<Void>? = thenRead ? eventLoop.makePromise() : nil
                if let last = events.last { write(last.payload(withID: subscription.withIDs), promise: written) }
                channel.flush()
                // (A write that failed: the connection is gone, and so is the need for more.)
                written?.futureResult.whenSuccess { [self] in perform(machine.pageWritten()) }
            case .writeLive(let event):
                counters.eventsDelivered += 1
                let bytes = event.bytes(withID: subscription.withIDs)
                let written = eventLoop.makePromise(of: Void.self)
                written.futureResult.whenComplete { [self] _ in perform(machine.liveWritten(bytes: bytes)) }
                write(event.payload(withID: subscription.withIDs), promise: written)
            case .sendLarge(let event):
                startLarge(event)
            case .armTimer(let deadline):
                timer?.cancel()
                timer = eventLoop.scheduleTask(deadline: deadline) { [self] in perform(machine.timerFired(now: .now())) }
            case .end(let ending):
                writeEnding(ending)
            case .cut:
                counters.streamsCut += 1
                channel.close(promise: nil)
            }
        }
    }

    /// Reads the page after `after` in a snapshot begun now (after the sink registered with
    /// the hub, so it sees every commit the hub may not), with the prune check in the same
    /// snapshot; off the loop (`ReplayReader`).
    private func readPage(after: Int) {
        services.replays.page(
            instanceID: instanceID, after: after, kinds: subscription.kinds,
            withIDs: subscription.withIDs, on: eventLoop
        ).whenComplete { [self] result in
            guard !closed else { return }
            switch result {
            case .success(let page):
                perform(machine.pageRead(page.events, full: page.full, firstKept: page.firstKept, now: .now()))
            case .failure(let error):
                services.logger.error("event replay failed", metadata: ["error": "\(error)"])
                channel.close(promise: nil)
            }
        }
    }

    private func writeEnding(_ ending: Ending) {
        var last = channel.allocator.buffer(capacity: 64)
        switch transport {
        case .webSocket:
            let (code, reason): (WebSocketErrorCode, String) =
                switch ending {
                case .shutdown: (.goingAway, "")
                case .instanceGone(let reason): (.normalClosure, reason)
                case .pruned(let id): (WebSocketErrorCode(codeNumber: 4410), "journal pruned past \(id)")
                }
            last.write(webSocketErrorCode: code)
            last.writeString(reason)
            channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: last)).whenComplete { [channel] _ in
                channel.close(promise: nil)
            }
        case .chunked, .plain:
            // A line cut short by a large event ending midway is not followed by another.
            if case .pruned(let id) = ending, large == nil {
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
}
