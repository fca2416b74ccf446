import NIOConcurrencyHelpers

/// Counts open connections per instance, so one instance cannot take every file descriptor.
/// Unidentified callers (no rule matched, or their process was gone by the time it was
/// accepted) share one allowance of the same size: each gets one answer, but without a bound
/// they could still hold every descriptor, and a guest could make its own connections
/// unidentified (connect from a child that exits at once) to escape its instance's limit.
/// Sendable: the counts are behind a lock, shared by all event loops.
final class ConnectionLimiter: Sendable {
    let limit: Int
    /// Open connections by instance id; nil counts the unidentified ones.
    private let counts = NIOLockedValueBox<[Int?: Int]>([:])

    init(limit: Int) { self.limit = limit }

    /// Takes a slot for `instanceID` (nil: unidentified); false when it is at its limit.
    func acquire(_ instanceID: Int?) -> Bool {
        counts.withLockedValue { counts in
            let current = counts[instanceID, default: 0]
            guard current < limit else { return false }
            counts[instanceID] = current + 1
            return true
        }
    }

    func release(_ instanceID: Int?) {
        counts.withLockedValue { counts in
            let remaining = counts[instanceID, default: 1] - 1
            counts[instanceID] = remaining > 0 ? remaining : nil
        }
    }
}
