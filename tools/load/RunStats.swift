/// What one worker observed during the measured window; merged across workers at the end.
struct RunStats: Sendable {
    /// Complete responses, whatever their status.
    var responses: UInt64 = 0
    /// Complete responses whose status was not 2xx.
    var non2xx: UInt64 = 0
    /// Requests that got no complete response: failed connects, resets,
    /// unparseable responses, connections closed mid-response.
    var transportErrors: UInt64 = 0
    var latency = LatencyHistogram()
    /// One example of what went wrong, since a count alone does not say.
    var firstTransportError: String?

    var errors: UInt64 { non2xx + transportErrors }

    mutating func recordResponse(status: Int, nanoseconds: UInt64) {
        responses += 1
        if !(200..<300).contains(status) {
            non2xx += 1
        }
        latency.record(nanoseconds: nanoseconds)
    }

    mutating func recordTransportError(_ reason: String) {
        transportErrors += 1
        firstTransportError = firstTransportError ?? reason
    }

    mutating func merge(_ other: RunStats) {
        responses += other.responses
        non2xx += other.non2xx
        transportErrors += other.transportErrors
        latency.merge(other.latency)
        firstTransportError = firstTransportError ?? other.firstTransportError
    }
}
