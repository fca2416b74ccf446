/// Latencies in nanoseconds, bucketed log-linearly in the spirit of HdrHistogram:
/// values below 128 ns are exact, and each power of two above is split into 64
/// equal buckets. Any value is therefore known to within 1/64 of itself, with
/// fixed memory however many requests a run makes (an array of every sample
/// would grow without bound at hundreds of thousands of requests per second).
struct LatencyHistogram: Sendable {
    private static let exactLimit: UInt64 = 128
    private static let subBuckets = 64
    // Shifts run from 1 (values 128..<256) to 57 (values with 64 significant bits).
    private static let bucketCount = Int(exactLimit) + 57 * subBuckets

    private var counts = [UInt64](repeating: 0, count: bucketCount)
    private(set) var total: UInt64 = 0
    private(set) var max: UInt64 = 0

    mutating func record(nanoseconds value: UInt64) {
        counts[Self.index(of: value)] += 1
        total += 1
        if value > max {
            max = value
        }
    }

    mutating func merge(_ other: LatencyHistogram) {
        for i in counts.indices {
            counts[i] += other.counts[i]
        }
        total += other.total
        max = Swift.max(max, other.max)
    }

    /// The value at quantile `q` (0...1), in nanoseconds; 0 when nothing was recorded.
    func quantile(_ q: Double) -> UInt64 {
        guard total > 0 else { return 0 }
        let rank = Swift.max(1, UInt64((q * Double(total)).rounded(.up)))
        var seen: UInt64 = 0
        for (i, count) in counts.enumerated() where count > 0 {
            seen += count
            if seen >= rank {
                // A bucket's midpoint can overshoot the largest value really seen.
                return Swift.min(Self.midpoint(of: i), max)
            }
        }
        return max
    }

    private static func index(of value: UInt64) -> Int {
        if value < exactLimit {
            return Int(value)
        }
        let significantBits = UInt64.bitWidth - value.leadingZeroBitCount
        let shift = significantBits - 7
        let mantissa = Int(value >> UInt64(shift))  // in 64..<128
        return Int(exactLimit) + (shift - 1) * subBuckets + (mantissa - subBuckets)
    }

    private static func midpoint(of index: Int) -> UInt64 {
        if index < Int(exactLimit) {
            return UInt64(index)
        }
        let shift = (index - Int(exactLimit)) / subBuckets + 1
        let mantissa = UInt64((index - Int(exactLimit)) % subBuckets + subBuckets)
        let lowerBound = mantissa << UInt64(shift)
        let width: UInt64 = 1 << UInt64(shift)
        return lowerBound + width / 2
    }
}
