import NIOConcurrencyHelpers
import NIOCore

/// What the hub hands events to: an `EventSink`, one per stream.
protocol EventListener: AnyObject, Sendable {
    /// The instance whose events it takes.
    var instanceID: Int { get }
    /// Where `receive` and `end` run.
    var eventLoop: EventLoop { get }
    /// Live events of its instance, in id order (on `eventLoop`).
    func receive(_ events: [EncodedEvent])
    /// The stream ends (on `eventLoop`).
    func end(_ ending: EventSink.Ending)
}

/// Who listens to which instance. The tailer publishes here; each subscriber gets the
/// batch on its own event loop. Sendable: the registry is behind a lock.
final class EventHub: Sendable {
    private let sinks = NIOLockedValueBox<[Int: [ObjectIdentifier: any EventListener]]>([:])

    func add(_ sink: any EventListener) {
        sinks.withLockedValue { $0[sink.instanceID, default: [:]][ObjectIdentifier(sink)] = sink }
    }

    func remove(_ sink: any EventListener) {
        sinks.withLockedValue { sinks in
            sinks[sink.instanceID]?[ObjectIdentifier(sink)] = nil
            if sinks[sink.instanceID]?.isEmpty == true { sinks[sink.instanceID] = nil }
        }
    }

    /// Open streams, all instances together.
    var count: Int { sinks.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }

    func hasSubscribers(_ instanceID: Int) -> Bool {
        sinks.withLockedValue { $0[instanceID] != nil }
    }

    /// Hands each subscriber the events of its instance, in id order.
    func publish(_ events: [EncodedEvent]) {
        let byInstance = Dictionary(grouping: events, by: \.instanceID)
        let targets = sinks.withLockedValue { sinks in
            byInstance.compactMap { instanceID, events in sinks[instanceID].map { (Array($0.values), events) } }
        }
        for (instanceSinks, events) in targets {
            for sink in instanceSinks { sink.eventLoop.execute { sink.receive(events) } }
        }
    }

    /// Ends every stream: a prune removed entries the journal tailer had not published yet, so
    /// no subscriber can be sure to have every event. Each resumes with `since=` (and gets 410).
    func endAll(_ ending: EventSink.Ending) {
        let all = sinks.withLockedValue { $0.values.flatMap(\.values) }
        for sink in all { sink.eventLoop.execute { sink.end(ending) } }
    }
}
