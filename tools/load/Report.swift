import Foundation

/// The summary of a run, as text for people or as one JSON object for scripts.
struct Report {
    let stats: RunStats
    let mode: Mode
    let connections: Int
    let duration: Double

    var requestsPerSecond: Double { Double(stats.responses) / duration }

    private func microseconds(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1000 }
    private var p50: Double { microseconds(stats.latency.quantile(0.50)) }
    private var p90: Double { microseconds(stats.latency.quantile(0.90)) }
    private var p99: Double { microseconds(stats.latency.quantile(0.99)) }
    private var maxLatency: Double { microseconds(stats.latency.max) }

    var text: String {
        """
        mode \(mode.rawValue), \(connections) connections, \(format(duration, 1)) s
        requests  \(stats.responses)
        errors    \(stats.errors) (non-2xx \(stats.non2xx), transport \(stats.transportErrors))
        rps       \(format(requestsPerSecond, 1))
        latency   p50 \(format(p50, 1)) us, p90 \(format(p90, 1)) us, p99 \(format(p99, 1)) us, max \(format(maxLatency, 1)) us
        """ + (stats.firstTransportError.map { "\nfirst transport error: \($0)" } ?? "")
    }

    // Written by hand to keep the key order stable for people reading logs.
    var json: String {
        let fields: [(String, String)] = [
            ("requests", "\(stats.responses)"),
            ("errors", "\(stats.errors)"),
            ("non2xx", "\(stats.non2xx)"),
            ("rps", format(requestsPerSecond, 1)),
            ("p50_us", format(p50, 1)),
            ("p90_us", format(p90, 1)),
            ("p99_us", format(p99, 1)),
            ("max_us", format(maxLatency, 1)),
            ("connections", "\(connections)"),
            ("duration_s", format(duration, 3)),
            ("mode", "\"\(mode.rawValue)\""),
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    private func format(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }
}
