import GuestStore
import NIOCore
import NIOWebSocket

/// One subscriber's stream: replays the journal after its start id, then goes live, sending
/// every matching event exactly once, in id order.
///
/// The seam: the sink registers with the hub *before* reading the journal, holds live events
/// while it replays, and drops any event whose id it already sent. If it falls too far behind
/// while replaying, it drops the held events and reads them from the journal instead: the
/// journal, not memory, is the source of truth.
///
/// Lives on its channel's event loop; only `instanceID` and `eventLoop` are read elsewhere,
/// which is why it is `@unchecked Sendable`.
final class EventSink: @unchecked Sendable {
    enum Transport {
        /// An HTTP/1.1 response body, one chunk per event.
        case chunked
        /// An HTTP/1.0 response body, ended by the close.
        case plain
        case webSocket
    }

    /// Undelivered events a subscriber may have before it is cut off.
    static let maxUndelivered = 1000
    private static let replayPage = 500

    let instanceID: Int
    let eventLoop: EventLoop
    private let channel: Channel
    private let subscription: EventSubscription
    private let transport: Transport
    private let services: Services
    private var lastSent: Int
    private var replaying = true
    private var held: [EncodedEvent] = []
    private var heldOverflowed = false
    private var undelivered = 0
    private var closed = false
    private var lastWrite: EventLoopFuture<Void>?

    init(channel: Channel, subscription: EventSubscription, transport: Transport, services: Services) {
        self.instanceID = subscription.instanceID
        self.eventLoop = channel.eventLoop
        self.channel = channel
        self.subscription = subscription
        self.transport = transport
        self.services = services
        self.lastSent = subscription.after
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
            } else if held.count < Self.maxUndelivered && !heldOverflowed {
                held.append(event)
            } else {
                heldOverflowed = true
                held = []
            }
        }
        channel.flush()
    }

    /// Shutdown: a WebSocket gets close 1001, a plain stream simply ends.
    func goingAway() {
        guard !closed else { return }
        closed = true
        switch transport {
        case .webSocket:
            var code = channel.allocator.buffer(capacity: 2)
            code.write(webSocketErrorCode: .goingAway)
            channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: code)).whenComplete { [channel] _ in
                channel.close(promise: nil)
            }
        case .chunked, .plain:
            let last = channel.allocator.buffer(staticString: transport == .chunked ? "0\r\n\r\n" : "")
            channel.writeAndFlush(last).whenComplete { [channel] _ in channel.close(promise: nil) }
        }
    }

    private func replayNextPage() {
        guard !closed else { return }
        let entries: [JournalEntry]
        do {
            let query = JournalQuery(instanceID: instanceID, after: lastSent, kinds: subscription.kinds,
                                     guestVisibleOnly: true, limit: Self.replayPage)
            entries = try services.stores.freshReader(on: eventLoop).journal(query)
        } catch {
            services.logger.error("event replay failed", metadata: ["guestapi.error": "\(error)"])
            channel.close(promise: nil)
            return
        }
        // One form, for this subscriber alone; only the page's last write is awaited.
        for (i, entry) in entries.enumerated() {
            send(EncodedEvent(entry, withID: subscription.withIDs), tracked: i == entries.count - 1)
        }
        guard entries.count < Self.replayPage else {
            // Wait until this page is written before reading the next: memory stays bounded.
            channel.flush()
            (lastWrite ?? eventLoop.makeSucceededVoidFuture()).whenComplete { [self] _ in replayNextPage() }
            return
        }
        if heldOverflowed {
            heldOverflowed = false
            return replayNextPage()
        }
        replaying = false
        let caughtUp = held
        held = []
        receive(caughtUp)
    }

    /// `tracked`: counts as undelivered until written, and becomes `lastWrite`. A replay page
    /// is bounded and awaited whole, so only its last write needs to be.
    private func send(_ event: EncodedEvent, tracked: Bool = true) {
        guard !closed else { return }
        lastSent = event.id
        let payload = event.payload(withID: subscription.withIDs)
        guard tracked else { return write(payload, promise: nil) }
        undelivered += 1
        if undelivered > Self.maxUndelivered {
            // A subscriber that cannot keep up is cut off; with replay it resumes losing nothing.
            closed = true
            channel.close(promise: nil)
            return
        }
        let written = eventLoop.makePromise(of: Void.self)
        write(payload, promise: written)
        written.futureResult.whenComplete { [self] _ in undelivered -= 1 }
        lastWrite = written.futureResult
    }

    private func write(_ payload: ByteBuffer, promise: EventLoopPromise<Void>?) {
        switch transport {
        case .chunked:
            var size = channel.allocator.buffer(capacity: 8)
            size.writeString(String(payload.readableBytes, radix: 16))
            size.writeStaticString("\r\n")
            channel.write(size, promise: nil)
            channel.write(payload, promise: nil)
            channel.write(channel.allocator.buffer(staticString: "\r\n"), promise: promise)
        case .plain:
            channel.write(payload, promise: promise)
        case .webSocket: channel.write(WebSocketFrame(fin: true, opcode: .text, data: payload), promise: promise)
        }
    }
}
