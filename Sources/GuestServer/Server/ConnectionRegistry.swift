import NIOConcurrencyHelpers
import NIOCore

/// Every open guest connection, by instance: so that an instance's connections learn at once
/// that it was deleted or changed (`InstanceChange`), and all of them that the daemon stops.
/// Sendable: the registry is behind a lock.
final class ConnectionRegistry: Sendable {
    private let channels = NIOLockedValueBox<[Int?: [ObjectIdentifier: Channel]]>([:])
    private let quiescing = NIOLockedValueBox(false)

    /// Registers `channel` until it closes; `instanceID` nil for an unidentified caller.
    func add(_ channel: Channel, instanceID: Int?) {
        let id = ObjectIdentifier(channel)
        channels.withLockedValue { $0[instanceID, default: [:]][id] = channel }
        channel.closeFuture.whenComplete { [channels] _ in
            channels.withLockedValue { channels in
                channels[instanceID]?[id] = nil
                if channels[instanceID]?.isEmpty == true { channels[instanceID] = nil }
            }
        }
    }

    /// Tells every connection of the instance, on its own loop.
    func send(_ change: InstanceChange, to instanceID: Int) {
        let targets = channels.withLockedValue { $0[instanceID].map { Array($0.values) } ?? [] }
        for channel in targets { channel.pipeline.fireUserInboundEventTriggered(change) }
    }

    /// Tells every connection, whatever its instance.
    func sendAll(_ change: InstanceChange) {
        for channel in all { channel.pipeline.fireUserInboundEventTriggered(change) }
    }

    var all: [Channel] { channels.withLockedValue { $0.values.flatMap(\.values) } }

    /// Asks every connection to finish (`ChannelShouldQuiesceEvent`), and each added from now on.
    func quiesceAll() {
        quiescing.withLockedValue { $0 = true }
        for channel in all { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
    }

    /// Whether `quiesceAll` was called: a connection set up after it (the acceptor hands its
    /// last callers over while the daemon stops) asks itself, once its handler is in place.
    var isQuiescing: Bool { quiescing.withLockedValue { $0 } }

    var isEmpty: Bool { channels.withLockedValue { $0.isEmpty } }

    var count: Int { channels.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }
}
