import GuestStore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import GuestServer

/// The hub between the journal tailer and the streams: each listener gets its own instance's
/// events, in order, on its own event loop, and nothing once it left.
@Suite("event hub")
struct EventHubTests {
    /// Records what it was handed, and on which loop.
    final class Listener: EventListener {
        let instanceID: Int
        let eventLoop: EventLoop
        private let seen = NIOLockedValueBox<[String]>([])

        init(instanceID: Int, on loop: EventLoop) {
            self.instanceID = instanceID
            eventLoop = loop
        }

        func receive(_ events: [EncodedEvent]) {
            let onLoop = eventLoop.inEventLoop
            seen.withLockedValue { $0.append("events \(events.map(\.id)) on its loop: \(onLoop)") }
        }

        func end(_ ending: EventSink.Ending) {
            let onLoop = eventLoop.inEventLoop
            seen.withLockedValue { $0.append("end \(ending) on its loop: \(onLoop)") }
        }

        /// What it saw, once everything queued on its loop ran.
        func said() throws -> [String] {
            try eventLoop.submit {}.wait()
            return seen.withLockedValue { $0 }
        }
    }

    static func event(_ id: Int, instance: Int) -> EncodedEvent {
        let entry = JournalEntry(
            id: id, timestampNs: 1, instanceID: instance, instance: "c\(instance)", kind: .config, name: "user.k",
            oldValue: nil, value: [0x61])
        return EncodedEvent(entry, fileEpoch: 1)
    }

    @Test func eachListenerGetsItsInstancesEventsInOrderOnItsLoop() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { try? group.syncShutdownGracefully() }
        let loops = Array(group.makeIterator())
        let hub = EventHub()
        let a = Listener(instanceID: 1, on: loops[0])
        let b = Listener(instanceID: 1, on: loops[1])
        let c = Listener(instanceID: 2, on: loops[1])
        for listener in [a, b, c] { hub.add(listener) }
        #expect(hub.count == 3)

        hub.publish([Self.event(5, instance: 1), Self.event(6, instance: 2), Self.event(7, instance: 1), Self.event(8, instance: 3)])
        hub.publish([Self.event(9, instance: 2)])

        #expect(try a.said() == ["events [5, 7] on its loop: true"])
        #expect(try b.said() == ["events [5, 7] on its loop: true"])
        #expect(try c.said() == ["events [6] on its loop: true", "events [9] on its loop: true"])
    }

    @Test func aListenerThatLeftGetsNothing() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let hub = EventHub()
        let staying = Listener(instanceID: 1, on: group.next())
        let leaving = Listener(instanceID: 1, on: group.next())
        let alone = Listener(instanceID: 2, on: group.next())
        for listener in [staying, leaving, alone] { hub.add(listener) }

        hub.remove(leaving)
        hub.remove(alone)
        hub.remove(alone)  // twice changes nothing
        #expect(hub.count == 1)
        #expect(hub.hasSubscribers(1))
        #expect(!hub.hasSubscribers(2), "an instance whose last listener left has none")
        hub.publish([Self.event(1, instance: 1), Self.event(2, instance: 2)])
        hub.endAll(.shutdown)

        #expect(try staying.said() == ["events [1] on its loop: true", "end shutdown on its loop: true"])
        #expect(try leaving.said() == [])
        #expect(try alone.said() == [])
    }

    /// A prune the tailer had not caught up with ends every stream, with the same reason.
    @Test func endAllEndsEveryStreamOfEveryInstance() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { try? group.syncShutdownGracefully() }
        let hub = EventHub()
        let listeners = (1...4).map { Listener(instanceID: $0 % 2, on: group.next()) }
        for listener in listeners { hub.add(listener) }

        hub.endAll(.pruned(after: 41))

        for listener in listeners { #expect(try listener.said() == ["end pruned(after: 41) on its loop: true"]) }
    }
}
