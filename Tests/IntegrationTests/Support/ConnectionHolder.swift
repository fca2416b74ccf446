import Foundation

/// Connections a guest holds open while the host does something to its instance: keep-alive
/// HTTP connections (each answered once), WebSocket and plain event streams. A python client,
/// started inside the guest so the daemon knows whose they are, opens them all, runs a host
/// command, then notes when each connection is closed by the daemon and everything it receives
/// meanwhile. It keeps its sockets open until it is dropped, as a guest that never lets go.
///
/// Not Sendable: one test owns it.
final class ConnectionHolder {
    struct Outcome: Decodable {
        /// Connections opened (every one answered or upgraded).
        var opened: Int
        /// Exit status of the host command.
        var exit: Int32
        /// Connections the daemon closed within the wait, and when the last of them was closed,
        /// in milliseconds after the command's exit.
        var closed: Int
        var lastCloseMilliseconds: Double?
        /// Everything received after the command began, on every connection, as text.
        var received: String
    }

    private let folder: String
    private let pid: Int32

    /// Opens the connections from inside `guest`; returns once all are open.
    init(
        in guest: GuestProcess, socket: String, keepAlive: Int, webSockets: Int = 0, streams: Int = 0,
        then command: [String], wait: Duration = .seconds(3)
    ) throws {
        folder = NSTemporaryDirectory() + "guestapi-holder-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let script = folder + "/holder.py"
        try Data(Self.source.utf8).write(to: URL(fileURLWithPath: script))
        let arguments = [
            "/usr/bin/python3", script, socket, String(keepAlive), String(webSockets), String(streams),
            String(wait.timeInterval), folder + "/outcome.json", String(decoding: try JSONEncoder().encode(command), as: UTF8.self),
        ]
        let started = try guest.run(shellCommand(arguments) + " >\(folder)/out 2>\(folder)/err & echo $!")
        guard let pid = Int32(started.text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw EventSubscriberError.notStarted(started.text + started.stderr)
        }
        self.pid = pid
    }

    deinit {
        kill(pid, SIGKILL)
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Waits for the client's report.
    func outcome(timeout: Duration = .seconds(60)) throws -> Outcome {
        let deadline = Date().addingTimeInterval(timeout.timeInterval)
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: folder + "/outcome.json"), !data.isEmpty {
                return try JSONDecoder().decode(Outcome.self, from: data)
            }
            usleep(10_000)
        }
        let errors = (try? String(contentsOfFile: folder + "/err", encoding: .utf8)) ?? ""
        throw EventSubscriberError.timedOut(what: "the connection holder's report", received: errors)
    }

    private static let source = #"""
        import base64, json, os, select, socket, subprocess, sys, time

        path, keep_alive, web_sockets, streams, wait, report, command = sys.argv[1:8]
        keep_alive, web_sockets, streams, wait = int(keep_alive), int(web_sockets), int(streams), float(wait)

        def connect(request):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.sendall(request)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(65536)
                if not chunk:
                    raise SystemExit("closed before an answer: %r" % head)
                head += chunk
            return s, head

        socks = []
        for _ in range(keep_alive):
            s, head = connect(b"GET /1.0 HTTP/1.1\r\nHost: guest\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit("keep-alive request answered %r" % head)
            socks.append(s)
        for _ in range(web_sockets):
            s, head = connect(b"GET /1.0/events HTTP/1.1\r\nHost: guest\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                              b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 101"):
                raise SystemExit("upgrade answered %r" % head)
            socks.append(s)
        for _ in range(streams):
            s, head = connect(b"GET /1.0/events HTTP/1.1\r\nHost: guest\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit("stream answered %r" % head)
            socks.append(s)

        exit = subprocess.run(json.loads(command), stdout=subprocess.DEVNULL).returncode
        done = time.monotonic()
        received, closed, last = b"", 0, None
        open_socks = list(socks)
        while open_socks and time.monotonic() < done + wait:
            ready, _, _ = select.select(open_socks, [], [], max(0.0, done + wait - time.monotonic()))
            for s in ready:
                data = s.recv(65536)
                if data:
                    received += data
                else:
                    closed += 1
                    last = (time.monotonic() - done) * 1000
                    open_socks.remove(s)
        with open(report + ".tmp", "w") as f:
            json.dump({"opened": len(socks), "exit": exit, "closed": closed, "lastCloseMilliseconds": last,
                       "received": received.decode("utf-8", "replace")}, f)
        os.rename(report + ".tmp", report)
        time.sleep(3600)
        """#
}
