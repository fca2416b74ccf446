import NIOConcurrencyHelpers
import NIOCore

/// Guest writes (`PATCH /1.0`) allowed per instance: a token bucket of `burst` tokens refilled
/// at `perSecond`, so that no guest can keep the daemon's one writer (and the disk) busy for
/// the others. Sendable: the buckets are behind a lock, shared by all event loops.
final class WriteLimiter: Sendable {
    let perSecond: Int
    let burst: Int
    private let clock: @Sendable () -> NIODeadline
    private let buckets = NIOLockedValueBox<[Int: Bucket]>([:])

    private struct Bucket {
        var tokens: Double
        var since: NIODeadline
    }

    /// Buckets kept at most; beyond, full ones are let go (they are as good as new).
    private static let keep = 4096

    init(perSecond: Int = 10, burst: Int = 100, clock: @escaping @Sendable () -> NIODeadline = { .now() }) {
        self.perSecond = perSecond
        self.burst = burst
        self.clock = clock
    }

    /// Takes a token for the instance; false when it has none left.
    func allow(_ instanceID: Int) -> Bool {
        let now = clock()
        return buckets.withLockedValue { buckets in
            var bucket = buckets[instanceID].map { refilled($0, at: now) } ?? Bucket(tokens: Double(burst), since: now)
            guard bucket.tokens >= 1 else {
                buckets[instanceID] = bucket
                return false
            }
            bucket.tokens -= 1
            if buckets.count >= Self.keep { buckets = buckets.filter { refilled($0.value, at: now).tokens < Double(burst) } }
            buckets[instanceID] = bucket
            return true
        }
    }

    private func refilled(_ bucket: Bucket, at now: NIODeadline) -> Bucket {
        let seconds = Double(max(0, (now - bucket.since).nanoseconds)) / 1e9
        return Bucket(tokens: min(Double(burst), bucket.tokens + seconds * Double(perSecond)), since: now)
    }
}
