import NIOConcurrencyHelpers

/// Counts open connections per instance, so one instance cannot take every file descriptor.
/// Sendable: the counts are behind a lock, shared by all event loops.
final class ConnectionLimiter: Sendable {
    let limit: Int
    private let counts = NIOLockedValueBox<[Int: Int]>([:])

    init(limit: Int) { self.limit = limit }

    /// Takes a slot for `instanceID`; false when the instance is at its limit.
    func acquire(_ instanceID: Int) -> Bool {
        counts.withLockedValue { counts in
            let current = counts[instanceID, default: 0]
            guard current < limit else { return false }
            counts[instanceID] = current + 1
            return true
        }
    }

    func release(_ instanceID: Int) {
        counts.withLockedValue { counts in
            let remaining = counts[instanceID, default: 1] - 1
            counts[instanceID] = remaining > 0 ? remaining : nil
        }
    }
}
