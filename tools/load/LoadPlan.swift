import NIOCore

/// How each simulated client uses its connection.
enum Mode: String, CaseIterable, Sendable {
    /// One connection per client, reused for every request (a long-lived agent).
    case keepalive
    /// A fresh connection per request with `Connection: close`, like one `curl`
    /// call per request; measures how fast the server accepts and serves connections.
    case churn
}

/// What every worker needs to know about the run. Immutable, so it can be
/// handed to all event loops at once.
struct LoadPlan: Sendable {
    let socketPath: String
    let mode: Mode
    /// The exact bytes of the request, built once: every write reuses this
    /// buffer (copy-on-write), so no request is ever re-encoded.
    let request: ByteBuffer
    /// Requests started before this are warm-up and are not counted.
    let measureFrom: NIODeadline
    /// All workers close their connections at this instant, in-flight requests included.
    let stopAt: NIODeadline

    init(socketPath: String, path: String, mode: Mode, measureFrom: NIODeadline, stopAt: NIODeadline) {
        self.socketPath = socketPath
        self.mode = mode
        self.measureFrom = measureFrom
        self.stopAt = stopAt

        // The same headers curl sends, so servers see what a shell user would send.
        var head = "GET \(path) HTTP/1.1\r\nHost: localhost\r\nUser-Agent: guestapi-load\r\nAccept: */*\r\n"
        if mode == .churn {
            head += "Connection: close\r\n"
        }
        head += "\r\n"
        self.request = ByteBuffer(string: head)
    }
}
