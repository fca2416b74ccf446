import Foundation

/// A real client of `GET /1.0/events`, started inside a guest so that the daemon knows whose
/// events it wants: the WebSocket client of `EventClientScript`, or `curl -N` for the plain
/// streaming response. It runs in the background, writing what it receives to a file that
/// the test reads as it grows. Killed when dropped.
///
/// Not Sendable: one test owns it.
final class EventSubscriber {
    enum Transport: CustomStringConvertible {
        case webSocket, stream
        var description: String { self == .webSocket ? "WebSocket" : "stream" }
    }

    let transport: Transport
    let resource: String
    private let folder: String
    private let output: String
    private let goFile: String
    private let pid: Int32

    /// Connects and waits for the answer to the request: an upgrade or a streaming 200, or an error.
    ///
    /// `holding`: read nothing after the handshake until `release()`, so events pile up on the daemon.
    /// `readRate`: a plain stream read at most this fast (curl's `--limit-rate`, e.g. "64K").
    init(
        in guest: GuestProcess, socket: String, query: String = "", transport: Transport = .webSocket,
        holding: Bool = false, readRate: String? = nil
    ) throws {
        precondition(!holding || transport == .webSocket, "only the WebSocket client can hold")
        self.transport = transport
        resource = "/1.0/events" + (query.isEmpty ? "" : "?" + query)
        folder = NSTemporaryDirectory() + "guestapi-events-\(UUID().uuidString)"
        output = folder + "/out"
        goFile = folder + "/go"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let arguments: [String]
        switch transport {
        case .webSocket:
            let script = folder + "/client.py"
            try Data(EventClientScript.source.utf8).write(to: URL(fileURLWithPath: script))
            arguments = ["/usr/bin/python3", script, socket, resource] + (holding ? [goFile] : [])
        case .stream:
            // -D, not -i: curl prints a head with -i only once body bytes follow it.
            arguments =
                ["curl", "-s", "-N", "-D", folder + "/head", "--unix-socket", socket]
                + (readRate.map { ["--limit-rate", $0] } ?? []) + ["http://guest" + resource]
        }
        let started = try guest.run(
            shellCommand(arguments)
                + " >\(output) 2>\(folder)/err & echo $!")
        guard let pid = Int32(started.text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw EventSubscriberError.notStarted(started.text + started.stderr)
        }
        self.pid = pid
        try waitUntil("the answer to \(resource)") { $0.status != nil }
    }

    deinit {
        kill(pid, SIGKILL)
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// What the client has received so far.
    struct Received: CustomStringConvertible {
        /// The handshake's status: 101 for an upgrade, else the HTTP status; nil until it came.
        var status: Int?
        /// Each message's exact text (WebSocket), or each line with its newline (stream).
        var messages: [String] = []
        /// The stream ended: the WebSocket close code, or nil when it simply ended.
        var closed: Int?? = nil
        /// The response head of a plain stream.
        var response: HTTPResponse?

        var description: String {
            "status \(status.map(String.init) ?? "none"), \(messages.count) messages"
                + (closed.map { ", closed (\($0.map(String.init) ?? "no close frame"))" } ?? "")
                + (messages.suffix(3).isEmpty ? "" : ", last: " + messages.suffix(3).joined())
        }
    }

    private var state = Received()
    /// How much of the output file `state` already holds: whole lines only.
    private var consumed: UInt64 = 0

    /// Reads what came since the last look: the file only grows, so only new lines are parsed.
    var received: Received {
        if transport == .stream && state.response == nil {
            state.response = FileManager.default.contents(atPath: folder + "/head").flatMap { HTTPResponse(Array($0)) }
            state.status = state.response?.status
        }
        // Whether it ran before the read: then nothing can follow what was read.
        let finished = !isRunning
        if let file = FileHandle(forReadingAtPath: output) {
            defer { try? file.close() }
            try? file.seek(toOffset: consumed)
            let bytes = Array((try? file.readToEnd()) ?? Data())
            if let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) {
                consumed += UInt64(lastNewline + 1)
                for line in bytes[...lastNewline].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast() {
                    take(line)
                }
            }
        }
        if transport == .stream && finished && state.closed == nil { state.closed = .some(nil) }
        return state
    }

    private func take(_ line: ArraySlice<UInt8>) {
        guard transport == .webSocket else {
            state.messages.append(String(decoding: line, as: UTF8.self) + "\n")
            return
        }
        switch try? JSONValue.parse(line) {
        case .string(let message)?:
            state.messages.append(message)
        case let value? where value["status"] != nil:
            state.status = value["status"]?.int
        case let value? where value["closed"] != nil:
            state.closed = .some(value["closed"]?.int)
        default:
            state.messages.append("<unexpected client output: \(String(decoding: line, as: UTF8.self))>")
        }
    }

    var messages: [String] { received.messages }

    /// Whether the client still runs (a zombie, exited but not yet reaped by the guest, does not).
    var isRunning: Bool {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let end = stat.lastIndex(of: ")") else { return false }
        return !stat[end...].hasPrefix(") Z")
    }

    /// Lets a holding client read.
    func release() {
        _ = FileManager.default.createFile(atPath: goFile, contents: nil)
    }

    /// Polls until `condition` holds; throws with what was received when it does not in time.
    @discardableResult
    func waitUntil(_ what: String, timeout: Duration = .seconds(20), _ condition: (Received) -> Bool) throws -> Received {
        let deadline = Date().addingTimeInterval(timeout.timeInterval)
        while true {
            let now = received
            if condition(now) { return now }
            guard Date() < deadline else {
                let errors = (try? String(contentsOfFile: folder + "/err", encoding: .utf8)) ?? ""
                throw EventSubscriberError.timedOut(what: "\(transport) \(resource): \(what)", received: now.description + errors)
            }
            usleep(5_000)
        }
    }

    /// Waits for at least `count` messages and returns all of them.
    @discardableResult
    func waitForMessages(_ count: Int, timeout: Duration = .seconds(20)) throws -> [String] {
        try waitUntil("\(count) messages", timeout: timeout) { $0.messages.count >= count }.messages
    }

    /// Waits for a message containing `text` and returns every message up to and including it.
    func waitForMessage(containing text: String, timeout: Duration = .seconds(20)) throws -> [String] {
        let messages = try waitUntil("a message with \(text)", timeout: timeout) { $0.messages.contains { $0.contains(text) } }.messages
        return Array(messages[...messages.firstIndex { $0.contains(text) }!])
    }
}

enum EventSubscriberError: Error, CustomStringConvertible {
    case notStarted(String)
    case timedOut(what: String, received: String)

    var description: String {
        switch self {
        case .notStarted(let output): "the event client did not start: \(output)"
        case .timedOut(let what, let received): "timed out waiting for \(what); received \(received)"
        }
    }
}
