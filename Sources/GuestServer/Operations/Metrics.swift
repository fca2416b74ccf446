import GuestRoutes
import GuestVersion
import NIOConcurrencyHelpers
import NIOCore

/// What `GET /metrics` reports (Prometheus text format, prefix `guestapi_`), never by instance:
/// a host may have 100,000 of them, and per-instance detail is guestapi-admin's.
///
/// Requests are counted by the event loop that serves them, in counters of its own (no lock,
/// no atomic on the request path), summed when scraped; what the acceptor thread counts is
/// behind one lock it takes per connection.
final class Metrics: Sendable {
    /// The endpoints a request is counted under.
    enum Endpoint: String, CaseIterable {
        case root = "/"
        case info = "/1.0"
        case config = "/1.0/config"
        case configKey = "/1.0/config/{key}"
        case devices = "/1.0/devices"
        case events = "/1.0/events"
        case metaData = "/1.0/meta-data"
        case imageExport = "/1.0/images/{fingerprint}/export"
        case identity = "/1.0/identity"
        case unknown = "other"
        case malformed = "malformed"

        init(_ route: Route?) {
            switch route {
            case .root: self = .root
            case .info: self = .info
            case .config: self = .config
            case .configKey: self = .configKey
            case .devices: self = .devices
            case .events: self = .events
            case .metaData: self = .metaData
            case .imageExport: self = .imageExport
            case .identity: self = .identity
            case nil: self = .unknown
            }
        }
    }

    /// Upper bounds of the request duration histogram, in seconds.
    static let durationBuckets: [Double] = [0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

    /// One loop's counters: used only on that loop.
    final class LoopCounters: @unchecked Sendable {
        struct RequestKey: Hashable {
            var endpoint: Endpoint
            var status: Int
        }
        var requests: [RequestKey: Int] = [:]
        var durations = [Int](repeating: 0, count: Metrics.durationBuckets.count + 1)
        var durationSum = 0.0
        var eventsDelivered = 0
        var streamsCut = 0
        var tokensMinted = 0
        var heldAnswersRead = 0
        var databaseErrors = 0

        /// Counts a request answered.
        func request(_ endpoint: Endpoint, status: Int, seconds: Double) {
            requests[.init(endpoint: endpoint, status: status), default: 0] += 1
            let bucket = Metrics.durationBuckets.firstIndex { seconds <= $0 } ?? Metrics.durationBuckets.count
            durations[bucket] += 1
            durationSum += seconds
        }

        func add(_ other: LoopCounters) {
            requests.merge(other.requests, uniquingKeysWith: +)
            for index in durations.indices { durations[index] += other.durations[index] }
            durationSum += other.durationSum
            eventsDelivered += other.eventsDelivered
            streamsCut += other.streamsCut
            tokensMinted += other.tokensMinted
            heldAnswersRead += other.heldAnswersRead
            databaseErrors += other.databaseErrors
        }
    }

    /// What the acceptor thread counts.
    struct AcceptorCounters: Sendable {
        var resolutions: [String: Int] = [:]
        /// Callers answered from `ResolutionMemo` (counted in `resolutions` or `notInContainer` too).
        var remembered = 0
        var notInContainer = 0
        var unavailable = 0
        var databaseFailed = 0
        var refusedAtLimit = 0
        var refusedWaiting = 0
    }

    private let loops: [ObjectIdentifier: LoopCounters]
    let acceptor = NIOLockedValueBox(AcceptorCounters())
    /// The requests of strangers the acceptor answered itself (`CallerRefusal`).
    let refusals = NIOLockedValueBox(LoopCounters())
    let startedAt: Double

    init(loops: [EventLoop], startedAt: Double) {
        self.loops = Dictionary(uniqueKeysWithValues: loops.map { (ObjectIdentifier($0), LoopCounters()) })
        self.startedAt = startedAt
    }

    /// The counters of the loop the caller runs on.
    func on(_ loop: EventLoop) -> LoopCounters {
        loop.preconditionInEventLoop()
        return loops[ObjectIdentifier(loop)]!
    }

    /// Every loop's counters summed, read on each loop in turn.
    func total(loops all: [EventLoop], on loop: EventLoop) -> EventLoopFuture<LoopCounters> {
        let reads = all.map { other in
            other.submit { [self] in
                let copy = LoopCounters()
                copy.add(on(other))
                return UncheckedCounters(counters: copy)
            }
        }
        return EventLoopFuture.whenAllSucceed(reads, on: loop).map { [refusals] copies in
            let sum = LoopCounters()
            for copy in copies { sum.add(copy.counters) }
            refusals.withLockedValue { sum.add($0) }
            return sum
        }
    }

    /// A copy handed from one loop to another: nobody else holds it.
    private struct UncheckedCounters: @unchecked Sendable { var counters: LoopCounters }

    /// The gauges read when scraped.
    struct Gauges {
        var connections: Int
        var subscribers: Int
        var held: Int
        var instances: Int
        var journalHead: Int
        var journalPublished: Int
        var hooksRefused: Int
    }

    /// The text format (version 0.0.4).
    func render(_ counters: LoopCounters, _ gauges: Gauges) -> String {
        var text = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(String, Double)]) {
            text += "# HELP guestapi_\(name) \(help)\n# TYPE guestapi_\(name) \(type)\n"
            for (suffix, value) in samples { text += "guestapi_\(name)\(suffix) \(Self.number(value))\n" }
        }
        let requests = counters.requests.sorted { ($0.key.endpoint.rawValue, $0.key.status) < ($1.key.endpoint.rawValue, $1.key.status) }
        family(
            "requests_total", "counter", "Guest requests answered, by endpoint and status.",
            requests.map { ("{endpoint=\"\($0.key.endpoint.rawValue)\",status=\"\($0.key.status)\"}", Double($0.value)) })
        var cumulative = 0
        var buckets: [(String, Double)] = []
        for (index, bound) in Self.durationBuckets.enumerated() {
            cumulative += counters.durations[index]
            buckets.append(("_bucket{le=\"\(Self.number(bound))\"}", Double(cumulative)))
        }
        cumulative += counters.durations.last!
        buckets += [("_bucket{le=\"+Inf\"}", Double(cumulative)), ("_sum", counters.durationSum), ("_count", Double(cumulative))]
        family("request_duration_seconds", "histogram", "Time from a request's arrival to its answer.", buckets)
        family("connections", "gauge", "Open guest connections.", [("", Double(gauges.connections))])
        let acceptor = acceptor.withLockedValue { $0 }
        family(
            "connections_refused_total", "counter",
            "Connections closed unserved: the instance at its limit, or its process with too many waiting.",
            [("{reason=\"instance_limit\"}", Double(acceptor.refusedAtLimit)), ("{reason=\"waiting\"}", Double(acceptor.refusedWaiting))])
        family(
            "identity_resolutions_total", "counter", "Callers resolved to an instance, by the rule that matched.",
            ["namespace", "ancestry", "cgroup", "lxc_monitor"].map { ("{rule=\"\($0)\"}", Double(acceptor.resolutions[$0, default: 0])) })
        family(
            "identity_remembered_total", "counter",
            "Callers whose process the rules had resolved within the last second, in the same database revision: answered from that.",
            [("", Double(acceptor.remembered))])
        family(
            "identity_failures_total", "counter",
            "Callers no rule matched (answered pid not in container?), ones /proc could not be read for, and ones the database failed for.",
            [
                ("{reason=\"not_in_container\"}", Double(acceptor.notInContainer)),
                ("{reason=\"unavailable\"}", Double(acceptor.unavailable)),
                ("{reason=\"database\"}", Double(acceptor.databaseFailed)),
            ])
        family("event_subscribers", "gauge", "Open event streams.", [("", Double(gauges.subscribers))])
        family("held_requests", "gauge", "Requests waiting for their answer to change (wait_for_change).", [("", Double(gauges.held))])
        family(
            "held_answers_read_total", "counter",
            "Answers read again for held requests (once as each begins, then for a change that may alter them, or at their time).",
            [("", Double(counters.heldAnswersRead))])
        family("events_delivered_total", "counter", "Events written to subscribers.", [("", Double(counters.eventsDelivered))])
        family("identity_tokens_total", "counter", "Workload identity tokens minted.", [("", Double(counters.tokensMinted))])
        family(
            "event_streams_cut_total", "counter", "Subscribers cut off for taking nothing of what waited for them.",
            [("", Double(counters.streamsCut))])
        family("journal_head_id", "gauge", "The newest journal id.", [("", Double(gauges.journalHead))])
        family(
            "journal_delivery_lag", "gauge", "Journal entries committed and not yet published to subscribers.",
            [("", Double(max(0, gauges.journalHead - gauges.journalPublished)))])
        family("instances", "gauge", "Registered instances.", [("", Double(gauges.instances))])
        family(
            "hooks_refused_total", "counter", "Runtime hooks refused: a container named an instance the host or another container holds.",
            [("", Double(gauges.hooksRefused))])
        family("database_errors_total", "counter", "Guest requests that failed on the database.", [("", Double(counters.databaseErrors))])
        family("start_time_seconds", "gauge", "When guestapid started, in seconds since the epoch.", [("", startedAt)])
        family(
            "build_info", "gauge", "The running build.",
            [("{version=\"\(BuildInfo.version)\",commit=\"\(BuildInfo.commit)\"}", 1)])
        return text
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
