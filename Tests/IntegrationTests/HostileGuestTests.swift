import Foundation
import Testing

/// No guest can crash, stall or starve the daemon (README, "How a caller is recognized", "Events and replay" and "Limits a guest cannot pass"), and the
/// replay promise holds under pruning. Each test is a way the released guestapid could be hurt.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct HostileGuestTests {
    /// `since` at and around every boundary: only decimal digits up to the journal's head pass,
    /// an error never echoes a control byte, and the daemon serves on.
    @Test(arguments: [
        ("9223372036854775807", "since 9223372036854775807 is after the newest journal entry"),
        ("9223372036854775806", "since 9223372036854775806 is after the newest journal entry"),
        ("99999999999999999999", #"invalid since "99999999999999999999""#),
        ("-1", #"invalid since "-1""#),
        ("%2B5", #"invalid since "+5""#),
        ("+5", #"invalid since "+5""#),
        ("5%00", #"invalid since "5\x00""#),
        ("5%0A%1B%5B2J", #"invalid since "5\x0a\x1b[2J""#),
        ("0x10", #"invalid since "0x10""#),
        ("", #"invalid since """#),
    ])
    func aSinceOutsideTheJournalIsRefused(since: String, message: String) throws {
        let harness = try EventsHarness("--config", "user.a=1")

        let answer = try harness.guest.answer("/1.0/events?since=\(since)")

        #expect(answer.status == 400, "\(answer)")
        #expect(answer.text.hasPrefix(message), "\(answer)")
        #expect(!answer.body.dropLast().contains { $0 < 0x20 || $0 == 0x7f }, "control bytes in \(answer)")
        #expect(try harness.guest.answer("/1.0/config/user.a") == .raw("1"))
        #expect(harness.daemon.process.isRunning)
    }

    /// Leading zeros are digits too; the head itself is a valid place to start.
    @Test func sinceWithLeadingZerosOrAtTheHeadReplays() throws {
        let harness = try EventsHarness("--config", "user.a=1")
        let head = try #require(try harness.cli.journal().last?.id)
        for since in ["0000", "\(head)", "000\(head)"] {
            let subscriber = try harness.subscribe("since=\(since)")
            #expect(subscriber.received.status == 101, "since=\(since)")
        }
    }

    /// Numbers a host passes on the command line: out of range is one line and exit 64, never a trap.
    @Test(arguments: [
        ([Binaries.admin, "journal", "prune", "--older-than", "99999999999d"], "bad duration"),
        ([Binaries.admin, "journal", "prune", "--older-than", "106752d"], "bad duration"),
        ([Binaries.admin, "journal", "prune", "--older-than", "9223372036854775808s"], "bad duration"),
        ([Binaries.admin, "journal", "prune", "--older-than", "+5s"], "bad duration"),
        ([Binaries.daemon, "--threads", "100000"], "--threads must be between 1 and 256"),
        ([Binaries.daemon, "--threads", "0"], "--threads must be between 1 and 256"),
        ([Binaries.admin, "instance", "create", "c1", "--pid", "-1"], "--pid must be a pid, 1 to 2147483647"),
        ([Binaries.admin, "instance", "create", "c1", "--pid", "2147483648"], "--pid must be a pid, 1 to 2147483647"),
        ([Binaries.admin, "instance", "attach", "c1", "--pid", "0"], "--pid must be a pid, 1 to 2147483647"),
    ])
    func anOutOfRangeNumberIsAUsageError(command: [String], message: String) throws {
        let state = try TemporaryState()
        let result = try Command(command[0], Array(command.dropFirst()) + state.arguments).run(timeout: .seconds(20))

        #expect(result.status == 64, "\(result.command): \(result.status) \(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Backtrace"), "\(result.stderr)")
    }

    /// A registered init that connects itself is its instance (README, "How a caller is recognized": the caller
    /// counts as the first process of its chain). It crashed the daemon for everyone: proving
    /// the links below a match at the caller read the range 1...0.
    @Test func anInitAskingForItselfIsItsInstance() throws {
        let host = try GuestHost()
        let go = host.state.directory + "/go"
        let asker = try Command("/usr/bin/python3", ["-c", Self.askWhenTold, host.socket, go]).start()
        defer { asker.signal(SIGKILL) }
        try host.register("c1", pid: asker.pid, ["--config", "user.a=mine"])

        #expect(FileManager.default.createFile(atPath: go, contents: nil))
        let asked = try asker.wait()

        #expect(asked.stdoutText.hasPrefix("HTTP/1.1 200 OK") && asked.stdoutText.hasSuffix("\r\n\r\nmine"), "\(asked.stdoutText)")
        #expect(try host.guest("c2", "--config", "user.a=other").answer("/1.0/config/user.a") == .raw("other"), "the daemon serves on")
    }

    /// Waits for the file argv[2], then asks argv[1] for user.a itself and prints the response.
    static let askWhenTold = #"""
        import os, socket, sys, time
        while not os.path.exists(sys.argv[2]):
            time.sleep(0.01)
        s = socket.socket(socket.AF_UNIX)
        s.connect(sys.argv[1])
        s.sendall(b"GET /1.0/config/user.a HTTP/1.1\r\nHost: guest\r\nConnection: close\r\n\r\n")
        response = b""
        while chunk := s.recv(65536):
            response += chunk
        sys.stdout.write(response.decode())
        """#

    @Test func theLargestAgeKeepsEverything() throws {
        let cli = try AdminCLI.populated()
        let before = try cli.journal()

        let output = try cli.succeed("journal", "prune", "--older-than", "106751d")

        #expect(output == "pruned 0 journal entries\n")
        #expect(try cli.journal() == before)
    }

    /// A caller 300 levels below a registered init is not that instance's by ancestry (README:
    /// 256 levels at most); 200 levels below, it is.
    @Test(arguments: [(200, true), (300, false)])
    func ancestryIsWalked256LevelsAtMost(depth: Int, matches: Bool) throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.whoami=c1")
        let curl = "curl -s -i --max-time 20 --unix-socket \(host.socket) http://guest/1.0/config/user.whoami"

        let output = try guest.process.run(shellCommand([try ProcessChain.program(), String(depth), "/bin/sh", "-c", curl]), timeout: 60)

        let answer = HTTPResponse(output.stdout).map(Answer.init)
        #expect(answer == (matches ? .raw("c1") : .notInContainer), "\(String(describing: answer)) \(output.stderr)")
    }

    /// An unregistered caller 1,000 levels deep opening 200 connections at once: another
    /// instance's new connections go first. (tools/bench-stall.sh measures this properly; here
    /// only "not held up by seconds", which the released daemon failed by far.)
    @Test func aDeepCallerDoesNotHoldUpOthers() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.a=1")
        let stranger = try host.stranger()
        let flood = "for i in $(seq 200); do curl -s -o /dev/null --max-time 60 --unix-socket \(host.socket) http://guest/1.0 & done; wait"
        // In a session of its own, so that the whole chain goes with one kill.
        let started = try stranger.process.run(
            shellCommand(["setsid", try ProcessChain.program(), "1000", "/bin/sh", "-c", flood])
                + " >/dev/null 2>&1 & echo $!")
        let attacker = try #require(Int32(started.text.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer {
            kill(-attacker, SIGKILL)
            withExtendedLifetime(stranger) {}
        }
        // Until the flood is on: the attacker's curls exist.
        let deadline = Date().addingTimeInterval(60)
        while DaemonUsage.openDescriptors(host.daemon.pid) < 60 && Date() < deadline { usleep(10_000) }

        var slowest = 0.0
        for _ in 0..<20 {
            let start = Date()
            #expect(try guest.answer("/1.0/config/user.a") == .raw("1"))
            slowest = max(slowest, Date().timeIntervalSince(start))
        }
        print("aDeepCallerDoesNotHoldUpOthers: slowest of 20 requests during the flood: \(Int(slowest * 1000)) ms")
        #expect(slowest < 2, "a request took \(slowest) s")
    }

    /// 40 changes of a 1.6 MB value replayed to 10 subscribers that never read: the daemon holds
    /// a page for each, not the journal (the released daemon grew by 128 MB a subscriber).
    @Test func replaysToSubscribersThatNeverReadAreBoundedInMemory() throws {
        let harness = try EventsHarness()
        let file = harness.host.state.directory + "/big"
        let changes = (0..<40).map { round in
            "printf '%s' \(round) > \(file); head -c 1600000 /dev/urandom | base64 -w0 >> \(file); "
                + shellCommand(harness.host.adminCommand("set", "user.big", "--file", file, "--instance", EventsHarness.instance))
        }
        try Command("/bin/sh", ["-c", changes.joined(separator: " && ")]).run(timeout: .seconds(120)).requireSuccess()
        let before = try #require(DaemonUsage.residentKiB(harness.daemon.pid))

        let stalled = try (0..<10).map { _ in try harness.subscribe("since=0", holding: true) }
        usleep(2_000_000)
        let during = try #require(DaemonUsage.residentKiB(harness.daemon.pid))
        #expect(try harness.guest.answer("/1.0/config") == .json(#"["/1.0/config/user.big"]"#))

        print(
            "replaysToSubscribersThatNeverReadAreBoundedInMemory: \(before / 1024) MB before, \(during / 1024) MB with 10 stalled replays")
        #expect(during - before < 200 * 1024, "resident memory grew from \(before) to \(during) KiB")
        withExtendedLifetime(stalled) {}
    }

    /// A prune that removes entries a replaying subscriber has not received ends its stream
    /// with a clear word, never with a silent gap; resuming then is 410.
    @Test(arguments: [EventSubscriber.Transport.webSocket, .stream])
    func aPruneUnderAReplayEndsItClearly(transport: EventSubscriber.Transport) throws {
        let harness = try EventsHarness()
        // 3,000 events of 1 KiB: more than a page and the socket buffers take.
        let padding = String(repeating: "x", count: 1024)
        for round in 1...30 {
            try harness.apply(config: Dictionary(uniqueKeysWithValues: (1...100).map { ("user.k\($0)", "\(round)-\(padding)") }))
        }
        let subscriber: EventSubscriber
        if transport == .webSocket {
            subscriber = try harness.subscribe("since=0", holding: true)
        } else {
            subscriber = try EventSubscriber(
                in: harness.guest.process, socket: harness.host.socket, query: "since=0",
                transport: .stream, readRate: "64K")
        }
        try harness.cli.succeed("journal", "prune", "--keep", "100")
        subscriber.release()

        let ended = try subscriber.waitUntil("the end of the stream", timeout: .seconds(60)) { $0.closed != nil }
        let ids = ended.messages.compactMap(GuestEvent.id)
        // What came is a gap-free run from the first event, then the end says where it stopped.
        let journalStart = try #require(ids.first)
        #expect(ids == Array(journalStart..<(journalStart + ids.count)), "a gap in what was received")
        #expect(ids.count < 3000)
        if transport == .webSocket {
            #expect(ended.closed == .some(4410))
        } else {
            #expect(ended.messages.last == #"{"type":"error","error":"journal pruned past \#(ids.last!)"}"# + "\n")
        }
        let resumed = try harness.guest.answer("/1.0/events?since=\(ids.last!)")
        #expect(resumed.status == 410, "\(resumed)")
    }

    /// `PATCH /1.0` Ready again and again: journaled once, and refused (429) past the burst.
    @Test func aGuestCannotFloodTheJournalWithReady() throws {
        let harness = try EventsHarness()
        let steps = (0..<150).map { _ in SessionStep.request("PATCH", "/1.0", body: #"{"state":"Ready"}"#) }

        let replies = try harness.guest.session(steps)

        let statuses = replies.compactMap { $0.response?.status }
        #expect(statuses.prefix(100).allSatisfy { $0 == 200 }, "\(statuses)")
        #expect(statuses.dropFirst(100).contains(429), "\(statuses)")
        #expect(replies.last?.answer == .text(429, "too many requests"))
        let ready = try harness.cli.journal("--type", "lifecycle").filter { $0.action == "instance-ready" }
        #expect(ready.count == 1)
    }

    /// A removed socket is noticed and bound again; new guests connect.
    @Test func aRemovedSocketIsBoundAgain() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.a=1")
        try #require(unlink(host.socket) == 0)

        let deadline = Date().addingTimeInterval(10)
        while !host.daemon.process.stderrSoFar.contains("bound it again") && Date() < deadline { usleep(20_000) }

        #expect(host.daemon.process.stderrSoFar.contains("guest socket \(host.socket) was removed while guestapid ran; bound it again"))
        #expect(try guest.answer("/1.0/config/user.a") == .raw("1"))
        #expect(StateFilesTests.mode(host.socket) == "666")
    }

    /// Out of descriptors: a registered guest whose identity could not be read is told to retry
    /// (503), not that it is nobody; and the failing accepts are said once, not every 10 ms.
    @Test func outOfDescriptorsIsRetryableAndSaidOnce() throws {
        let state = try TemporaryState()
        let guest = try GuestProcess()
        try Command(Binaries.admin, ["instance", "create", "c1", "--pid", String(guest.pid)] + state.arguments).run().requireSuccess()
        let daemon = try Command("/usr/bin/prlimit", ["--nofile=96:96", Binaries.daemon] + state.arguments).start()
        defer { daemon.signal(SIGKILL) }
        let deadline = Date().addingTimeInterval(20)
        while !String(decoding: daemon.stdoutSoFar, as: UTF8.self).contains("serving") && Date() < deadline { usleep(10_000) }
        let socket = state.socket

        // A stranger takes every descriptor the daemon has left, then gives back one.
        let holder = try DescriptorHog(socket: socket, daemon: daemon.pid, limit: 96)
        let answerFile = state.directory + "/answer"
        _ = try guest.run(
            shellCommand(["curl", "-s", "-i", "--max-time", "20", "--unix-socket", socket, "http://guest/1.0"])
                + " > \(answerFile).tmp && mv \(answerFile).tmp \(answerFile) & true")
        usleep(300_000)  // the accept fails for a while
        holder.giveBackOne()
        while !FileManager.default.fileExists(atPath: answerFile) && Date() < deadline + 20 { usleep(10_000) }

        let answer = FileManager.default.contents(atPath: answerFile).flatMap { HTTPResponse(Array($0)) }.map(Answer.init)
        #expect(answer == .text(503, "cannot identify the caller now; try again"))
        #expect(daemon.stderrSoFar.components(separatedBy: "cannot accept connections").count - 1 == 1, "\(daemon.stderrSoFar)")
    }
}
