import Foundation
import Testing

@testable import GuestStore

/// Operating guestapid (README, "Operating it"): socket activation and sd_notify as systemd speaks
/// them, health and metrics on the admin socket, `guestapi-admin status`, one log format, the
/// install script.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct OperationsTests {
    /// 8 clients asking in a loop, each request on a connection of its own, while guestapid is
    /// restarted three times on the socket systemd-socket-activate holds: none fails, and the
    /// socket file stays.
    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-socket-activate"),
            "systemd-socket-activate is not installed (package systemd)"))
    func socketActivationLosesNoRequestAcrossRestarts() throws {
        let state = try TemporaryState()
        let guest = try GuestProcess()
        try Command(Binaries.admin, ["instance", "create", "c1", "--pid", String(guest.pid), "--config", "user.a=1"] + state.arguments)
            .run().requireSuccess()
        try FileManager.default.createDirectory(
            atPath: (state.socket as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let stop = state.directory + "/stop-daemons"
        // The holder of the socket starts guestapid again each time it stops, as systemd would;
        // LISTEN_PID must name guestapid itself, hence the exec.
        let loop =
            "while [ ! -e '\(stop)' ]; do sh -c 'LISTEN_PID=$$ exec \"$0\" --state-dir \"$1\"' '\(Binaries.daemon)' '\(state.directory)'; done"
        let holder = try Command(
            "/usr/bin/systemd-socket-activate", ["-l", state.socket, "--fdname=guest", "-E", "PATH", "/bin/sh", "-c", loop]
        ).start()
        defer {
            #expect(FileManager.default.createFile(atPath: stop, contents: nil))
            _ = try? Command("/usr/bin/pkill", ["-f", "guestapid --state-dir \(state.directory)"]).run()
            holder.signal(SIGKILL)
        }
        let clients = try guest.run(
            shellCommand(["/usr/bin/python3", "-c", Self.churnClients, state.socket, state.directory + "/clients"])
                + " > \(state.directory)/clients.out 2>&1 & echo $!")
        let clientsPID = try #require(Int32(clients.text.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(clientsPID, SIGKILL) }

        var daemons: [Int32] = []
        for _ in 0..<4 {
            let deadline = Date().addingTimeInterval(20)
            var pid: Int32?
            while pid == nil || pid == daemons.last, Date() < deadline {
                usleep(50_000)
                pid = try Command("/usr/bin/pgrep", ["-f", "guestapid --state-dir \(state.directory)"]).run().stdoutText
                    .split(separator: "\n").first.flatMap { Int32($0) }
            }
            daemons.append(try #require(pid, "no guestapid running"))
            usleep(700_000)  // serving a while
            #expect(FileManager.default.fileExists(atPath: state.socket))
            if daemons.count < 4 { kill(daemons.last!, SIGTERM) }
        }
        #expect(FileManager.default.createFile(atPath: state.directory + "/clients", contents: nil))
        let deadline = Date().addingTimeInterval(20)
        while !((try? String(contentsOfFile: state.directory + "/clients.out", encoding: .utf8)) ?? "").contains("}"), Date() < deadline {
            usleep(50_000)
        }
        let report = try JSONValue.parse(Array((try String(contentsOfFile: state.directory + "/clients.out", encoding: .utf8)).utf8))

        #expect(Set(daemons).count == 4, "three restarts")
        #expect(report["failed"]?.int == 0, "\(report)")
        #expect((report["ok"]?.int ?? 0) > 100, "\(report)")
        #expect(FileManager.default.fileExists(atPath: state.socket), "the socket file stays")
        print("socketActivationLosesNoRequestAcrossRestarts: \(report)")
    }

    /// Until FILE exists: 8 threads, each a request per new connection; then one JSON line.
    static let churnClients = #"""
        import json, os, socket, sys, threading
        path, until = sys.argv[1], sys.argv[2]
        counts = {"ok": 0, "failed": 0, "errors": []}
        lock = threading.Lock()
        def client():
            while not os.path.exists(until):
                try:
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.settimeout(20)
                    s.connect(path)
                    s.sendall(b"GET /1.0/config/user.a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    data = b""
                    while chunk := s.recv(4096):
                        data += chunk
                    s.close()
                    good = data.startswith(b"HTTP/1.1 200") and data.endswith(b"\r\n\r\n1")
                except OSError as error:
                    good, data = False, repr(error).encode()
                with lock:
                    counts["ok" if good else "failed"] += 1
                    if not good and len(counts["errors"]) < 5:
                        counts["errors"].append(data[:80].decode("latin-1"))
        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(json.dumps(counts), flush=True)
        """#

    /// sd_notify on a datagram socket the test binds: READY=1 once the socket accepts,
    /// WATCHDOG=1 at half of WATCHDOG_USEC and again after the daemon was stopped (SIGSTOP),
    /// STOPPING=1. (That pings stop while a loop or the tailer is stuck: WatchdogTests.)
    @Test func systemdHearsReadyWatchdogAndStopping() throws {
        let state = try TemporaryState()
        let notify = state.directory + "/notify"
        let listener = try Command("/usr/bin/python3", ["-c", Self.notifyListener, notify]).start()
        defer { listener.signal(SIGKILL) }
        while !FileManager.default.fileExists(atPath: notify) { usleep(5_000) }
        let daemon = try Command(Binaries.daemon, state.arguments, environment: ["NOTIFY_SOCKET": notify, "WATCHDOG_USEC": "400000"])
            .start()
        defer { daemon.signal(SIGKILL) }

        let ready = try Self.waitForMessage(listener, containing: "READY=1")
        // READY=1 means the socket accepts now.
        #expect(
            try Command("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", state.socket, "http://x/"])
                .run().stdoutText == "500", "the socket answers once READY=1 is sent")
        #expect(ready.contains("STATUS=serving"))
        usleep(1_500_000)
        kill(daemon.pid, SIGSTOP)
        let stoppedAt = Date().timeIntervalSince1970
        usleep(1_000_000)
        let resumedAt = Date().timeIntervalSince1970
        kill(daemon.pid, SIGCONT)
        usleep(1_000_000)
        daemon.signal(SIGTERM)
        _ = try Self.waitForMessage(listener, containing: "STOPPING=1")

        let beats = Self.messages(listener).filter { $0.text.contains("WATCHDOG=1") }.map(\.time)
        let before = beats.filter { $0 < stoppedAt }
        #expect(before.count >= 4, "about one every 0.2 s: \(beats)")
        let gaps = zip(before.dropFirst(), before).map { $0 - $1 }
        #expect(gaps.allSatisfy { $0 < 0.5 }, "\(gaps)")
        #expect(beats.contains { $0 > resumedAt }, "pings again once resumed")
    }

    /// Prints "TIME MESSAGE" lines (newlines in a message as |) for each datagram received.
    static let notifyListener = #"""
        import socket, sys, time
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(sys.argv[1])
        while True:
            data = s.recv(4096)
            print("%.6f %s" % (time.time(), data.decode().replace("\n", "|")), flush=True)
        """#

    static func messages(_ listener: RunningCommand) -> [(time: Double, text: String)] {
        String(decoding: listener.stdoutSoFar, as: UTF8.self).split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let time = Double(parts[0]) else { return nil }
            return (time, String(parts[1]))
        }
    }

    static func waitForMessage(_ listener: RunningCommand, containing text: String) throws -> String {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let found = messages(listener).first(where: { $0.text.contains(text) }) { return found.text }
            usleep(10_000)
        }
        throw EventSubscriberError.timedOut(
            what: "a notification with \(text)", received: String(decoding: listener.stdoutSoFar, as: UTF8.self))
    }

    /// GET on the admin socket: status and body.
    static func admin(_ state: TemporaryState, _ path: String) throws -> (status: Int, body: String) {
        let result = try Command(
            "/usr/bin/curl", ["-s", "-w", "\n%{http_code}", "--unix-socket", state.directory + "/admin.sock", "http://x" + path]
        ).run()
        let text = result.stdoutText
        let split = try #require(text.lastIndex(of: "\n"))
        return (Int(text[text.index(after: split)...]) ?? 0, String(text[..<split]))
    }

    /// A known load, then /metrics read with the Prometheus client library's own parser: each
    /// counter is exactly what was done.
    @Test(.enabled(if: Self.prometheusClient, "python3-prometheus-client is not installed"))
    func metricsCountExactlyWhatHappened() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.a=1")
        let stranger = try host.stranger()
        let subscriber = try EventSubscriber(in: guest.process, socket: host.socket)
        for _ in 0..<7 { _ = try guest.answer("/1.0/config/user.a") }
        for _ in 0..<3 { _ = try guest.answer("/1.0/config/user.nope") }
        for _ in 0..<2 { _ = try stranger.answer("/1.0") }
        for value in 1...4 { try host.cli.succeed("set", "user.a", "v\(value)") }
        try subscriber.waitForMessages(4)
        let (status, body) = try Self.admin(host.state, "/metrics")
        try #require(status == 200)
        let file = host.state.directory + "/metrics.txt"
        try body.write(toFile: file, atomically: true, encoding: .utf8)

        let parsed = try Command("/usr/bin/python3", ["-c", Self.parseMetrics, file]).run().requireSuccess()
        let samples = try JSONValue.parse(Array(parsed.stdout))
        func value(_ key: String) -> Int? { samples[key]?.int }

        #expect(value(#"guestapi_requests_total{endpoint=/1.0/config/{key},status=200}"#) == 7, "\(parsed.stdoutText)")
        #expect(value(#"guestapi_requests_total{endpoint=/1.0/config/{key},status=404}"#) == 3)
        #expect(value(#"guestapi_requests_total{endpoint=/1.0,status=500}"#) == 2)
        #expect(value(#"guestapi_requests_total{endpoint=/1.0/events,status=101}"#) == 1)
        #expect(value(#"guestapi_identity_failures_total{reason=not_in_container}"#) == 2)
        #expect(value(#"guestapi_identity_resolutions_total{rule=ancestry}"#) == 11)
        // Every request was a curl of its own: no process came back.
        #expect(value(#"guestapi_identity_remembered_total"#) == 0)
        #expect(value(#"guestapi_events_delivered_total"#) == 4)
        #expect(value(#"guestapi_event_subscribers"#) == 1)
        #expect(value(#"guestapi_request_duration_seconds_count"#) == 13)
        #expect(value(#"guestapi_instances"#) == 1)
        #expect(value("guestapi_build_info{commit=\(try Self.commit()),version=0.2.0}") == 1, "\(parsed.stdoutText)")
    }

    static func commit() throws -> String {
        let version = try Command(Binaries.daemon, ["--version"]).run().stdoutText
        return version.firstMatch(of: #/\((.*)\)/#).map { String($0.output.1) } ?? "unknown"
    }

    static let prometheusClient: Bool = (try? Command("/usr/bin/python3", ["-c", "import prometheus_client"]).run().status) == 0

    /// Every sample as "name{label=value,...}": value, read by prometheus_client's parser.
    static let parseMetrics = #"""
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        samples = {}
        for family in text_string_to_metric_families(open(sys.argv[1]).read()):
            for sample in family.samples:
                labels = ",".join("%s=%s" % item for item in sorted(sample.labels.items()))
                samples[sample.name + ("{%s}" % labels if labels else "")] = int(sample.value) if sample.value == int(sample.value) else sample.value
        print(json.dumps(samples))
        """#

    /// An upgrade's newer CLI migrating the file under a daemon that was not restarted: the
    /// daemon says so once, and /healthz asks for a restart.
    @Test func aNewerSchemaUnderTheDaemonAsksForARestart() throws {
        let host = try GuestHost()
        _ = try host.guest("c1")
        try Database(path: host.state.database).execute("PRAGMA user_version = 1000")
        var health = try Self.admin(host.state, "/healthz")
        let deadline = Date().addingTimeInterval(10)
        while health.status == 200 && Date() < deadline {
            usleep(20_000)
            health = try Self.admin(host.state, "/healthz")
        }
        #expect(health == (503, "the database was migrated to schema 1000 by a newer guestapi: restart guestapid\n"))
        // More commits (the CLI refuses a newer schema; another writer need not): said once.
        try Database(path: host.state.database).execute("INSERT INTO settings (name, value) VALUES ('newer', 1)")
        usleep(100_000)
        #expect(host.daemon.process.stderrSoFar.components(separatedBy: "by a newer guestapi").count == 2)
    }

    /// /healthz: 503 with the reason while the database is garbage, 200 again after.
    @Test func healthzFollowsTheDatabase() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1")
        #expect(try Self.admin(host.state, "/healthz") == (200, "ok\n"))
        let backup = host.state.directory + "/backup.db"
        try Database(path: host.state.database).execute("VACUUM INTO '\(backup)'")
        let garbage = host.state.directory + "/garbage"
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: garbage))

        try #require(rename(garbage, host.state.database) == 0)
        var health = try Self.admin(host.state, "/healthz")
        let deadline = Date().addingTimeInterval(10)
        while health.status == 200 && Date() < deadline {
            usleep(50_000)
            health = try Self.admin(host.state, "/healthz")
        }
        #expect(health.status == 503 && health.body.contains("was replaced"), "\(health)")
        // A caller meanwhile is answered 500, and why is said once, counted apart.
        for _ in 0..<3 { #expect(try guest.request("/1.0").status == 500) }
        #expect(
            host.daemon.process.stderrSoFar.components(separatedBy: "the database failed").count == 2, "\(host.daemon.process.stderrSoFar)")
        #expect(try Self.admin(host.state, "/metrics").body.contains(#"guestapi_identity_failures_total{reason="database"} 3"#))
        try #require(rename(backup, host.state.database) == 0)
        while health.status != 200 && Date() < deadline + 10 {
            usleep(50_000)
            health = try Self.admin(host.state, "/healthz")
        }
        #expect(health == (200, "ok\n"))
    }

    @Test func statusSaysWhetherADaemonRuns() throws {
        let cli = try AdminCLI.populated()
        let stopped = try cli.run(["status"])
        #expect(stopped.status == 3 && stopped.stdoutText.contains("not running"), "\(stopped)")

        let daemon = try Daemon(state: cli.state)
        let running = try cli.run(["status", "--format", "json"])
        #expect(running.status == 0, "\(running.stderr)")
        let status = try JSONValue.parse(running.stdout)
        #expect(status["healthy"] == .bool(true) && status["pid"]?.int == Int(daemon.pid) && status["instances"]?.int == 1)

        // A user who may not read the lock file is told so; "not running" would be a lie.
        let nobody = try Command(
            "/usr/bin/setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups", Binaries.admin, "status"] + cli.state.arguments
        ).run()
        #expect(nobody.status == 1 && nobody.stderr.contains("permission denied: \(cli.state.directory)/guestapid.lock"), "\(nobody)")
        withExtendedLifetime(daemon) {}
    }

    /// `status` probes the lock with a shared lock for an instant; a daemon starting just then
    /// waits for it instead of refusing as if another daemon ran.
    @Test func aStartDuringAStatusProbeWaits() throws {
        let cli = try AdminCLI.populated()
        try Daemon(state: cli.state).stop()
        let probe = try Command(
            "/usr/bin/python3",
            [
                "-c",
                """
                import fcntl, sys, time
                f = open(sys.argv[1])
                fcntl.flock(f, fcntl.LOCK_SH)
                print("held", flush=True)
                time.sleep(0.3)
                """, cli.state.directory + "/guestapid.lock",
            ]
        ).start()
        while !String(decoding: probe.stdoutSoFar, as: UTF8.self).contains("held") && probe.isRunning { usleep(5_000) }

        let daemon = try Daemon(state: cli.state)

        #expect(try cli.run(["status"]).status == 0)
        withExtendedLifetime(daemon) {}
    }

    /// One format: every line logfmt with time, level and msg (or JSON with --log-format json),
    /// an instance named by name; an unrecognized caller said once a minute however often it calls.
    @Test(arguments: ["logfmt", "json"])
    func oneLineAboutACallerFloodingTheSocket(format: String) throws {
        let host = try GuestHost(daemonArguments: ["--log-format", format])
        let stranger = try host.stranger()
        let flood = try stranger.process.run(shellCommand(["/usr/bin/python3", "-c", Self.flood, host.socket, "10000"]), timeout: 120)
        try #require(flood.status == 0, "\(flood.stderr)")
        let pid = try #require(Int(flood.text.trimmingCharacters(in: .whitespacesAndNewlines)))

        let lines = host.daemon.process.stderrSoFar.split(separator: "\n")
        let about = lines.filter { $0.contains("caller not recognized") }
        #expect(about.count == 1, "\(about)")
        let needle = format == "json" ? #""pid":\#(pid),"# : "pid=\(pid)"
        #expect(about.first?.contains(needle) == true, "\(about)")
        for line in lines {
            if format == "json" {
                #expect(line.hasPrefix(#"{"time":""#) && line.contains(#""level":""#) && line.contains(#""msg":""#), "\(line)")
            } else {
                #expect(line.hasPrefix("time=") && line.contains(" level=") && line.contains(" msg="), "\(line)")
            }
        }
    }

    /// COUNT connections from one process, one request each; prints the process's pid.
    static let flood = #"""
        import os, socket, sys
        path, count = sys.argv[1], int(sys.argv[2])
        for _ in range(count):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.sendall(b"GET /1.0 HTTP/1.1\r\nHost: x\r\n\r\n")
            while s.recv(4096):
                pass
            s.close()
        print(os.getpid())
        """#

    /// Logging never ends the daemon: stderr on a full disk, or a pipe nobody reads any more.
    /// Foundation's FileHandle.write trapped at the first log line.
    @Test(arguments: ["full", "closed-pipe"])
    func anUnwritableStderrEndsNothing(stderr: String) throws {
        let cli = try AdminCLI()
        let daemon = try Command(
            "/usr/bin/python3", ["-c", Self.execWithStderr, stderr, Binaries.daemon, "--log-level", "debug"] + cli.state.arguments
        ).start()
        defer { daemon.signal(SIGKILL) }
        let deadline = Date().addingTimeInterval(20)
        while !String(decoding: daemon.stdoutSoFar, as: UTF8.self).contains("serving") && daemon.isRunning && Date() < deadline {
            usleep(10_000)
        }

        let guest = try GuestProcess()
        try cli.succeed("instance", "create", "c1", "--pid", String(guest.pid), "--config", "user.a=1")
        let stranger = try GuestProcess()
        // An unrecognized caller is logged (info), and each request (debug).
        #expect(try stranger.curl(cli.state.socket, "/1.0").text.hasPrefix("HTTP/1.1 500"))
        #expect(try guest.curl(cli.state.socket, "/1.0/config/user.a").text.hasSuffix("\r\n\r\n1"))

        daemon.signal(SIGTERM)
        #expect(try daemon.wait().status == 0)
    }

    /// argv[1] "full": stderr on /dev/full; "closed-pipe": a pipe whose reader is closed.
    /// Then execs argv[2:], so the daemon keeps this pid.
    static let execWithStderr = #"""
        import os, sys
        if sys.argv[1] == "full":
            os.dup2(os.open("/dev/full", os.O_WRONLY), 2)
        else:
            read, write = os.pipe()
            os.close(read)
            os.dup2(write, 2)
        os.execv(sys.argv[2], sys.argv[2:])
        """#

}
