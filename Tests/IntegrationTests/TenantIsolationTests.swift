import Foundation
import Testing

/// What the host does in the ordinary course (delete, re-create, restart containers) and what
/// the kernel recycles (pids, namespace inodes) never lets one instance read another's data
/// (README, "How a caller is recognized"). Each test is a way the released guestapid leaked.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct TenantIsolationTests {
    static let secret = "/1.0/config/user.secret"
    /// What each leak is tried on: a config value, and an identity token, which must name the
    /// caller's own instance or none.
    static let probes = [secret, IdentityTokenTests.tokenPath]

    /// Leak 1: the newest instance deleted and another created took its id, and with it the old
    /// one's open connections, streams, history and connection limit.
    @Test(arguments: probes)
    func aNewInstanceInheritsNothingFromADeletedOne(probe: String) throws {
        let host = try GuestHost(daemonArguments: ["--max-conns-per-instance", "8"])
        _ = try host.guest("alpha", "--config", "user.secret=alpha")
        let old = try host.guest("old", "--config", "user.secret=OLD-SECRET")
        let successor = try host.stranger()
        let oldID = try host.cli.show("old").id
        // Deleted and re-created while old's processes hold 6 keep-alive connections and 2 streams
        // (its whole allowance), then a change to the new one that its streams must never see.
        let recreate = [
            "/bin/sh", "-c",
            [
                shellCommand(host.adminCommand("instance", "delete", "old")),
                shellCommand(
                    host.adminCommand(
                        "instance", "create", "new", "--pid", String(successor.process.shellPID),
                        "--config", "user.secret=NEW-SECRET")),
                shellCommand(host.adminCommand("set", "user.note", "NEW-LIVE", "--instance", "new")),
            ].joined(separator: " && "),
        ]
        let holder = try ConnectionHolder(in: old.process, socket: host.socket, keepAlive: 6, webSockets: 1, streams: 1, then: recreate)
        let outcome = try holder.outcome()

        #expect(outcome.exit == 0)
        #expect(outcome.closed == outcome.opened, "the daemon ended every connection of the deleted instance")
        #expect(!outcome.received.contains("NEW-"), "the old instance's streams got the new one's events: \(outcome.received)")
        // The deleted instance's processes are nobody now; the new one gets its own data only.
        #expect(try old.answer(probe) == .notInContainer)
        if probe == Self.secret {
            #expect(try successor.answer(probe) == .raw("NEW-SECRET"), "not refused for the old one's connections")
        } else {
            #expect(try IdentityTokenTests.claims(successor.answer(probe))?.instance == "new")
        }
        let replay = try successor.request("/1.0/events?since=0", "-N", "--max-time", "1")
        #expect(!Answer(replay).text.contains("OLD-SECRET"), "the new instance replayed the old one's history")
        #expect(try host.cli.journal("--instance", "new").allSatisfy { $0.instance == "new" })
        #expect(try #require(try host.cli.show("new").id) > #require(oldID))
    }

    /// Leak 2: the kernel hands a freed PID namespace's inode number to the next namespace made;
    /// an unprivileged host user who made it was taken for the dead instance, an unprivileged
    /// container whose root is that same host uid.
    @Test(arguments: probes)
    func aRecycledNamespaceInodeInheritsNothing(probe path: String) throws {
        let host = try GuestHost()
        chmod(host.state.directory, 0o755)  // so that an unprivileged user reaches the socket
        let unprivileged = [
            "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
            "/usr/bin/unshare", "--user", "--map-root-user", "--pid", "--fork",
        ]
        let probe = "stat -L -c %i /proc/self/ns/pid; curl -s -i --max-time 10 --unix-socket '\(host.socket)' 'http://guest\(path)'"
        var recycled: Answer?
        var namespace = 0
        // Other tests make namespaces too, and may take the freed number first: a few rounds.
        for round in 0..<5 where recycled == nil {
            var victim: Guest? = try host.guest(
                "uvictim\(round)", "--config", "user.secret=VICTIM-TOKEN", "--root-uid", "65534",
                wrapper: unprivileged + ["--mount-proc"])
            let initPID = victim!.process.shellPID
            namespace = try #require(try host.cli.show("uvictim\(round)").pidnsInode)
            #expect(try victim!.answer(Self.secret) == .raw("VICTIM-TOKEN"))
            victim = nil  // killed: its namespace is freed
            try waitUntilGone(initPID)
            for _ in 0..<50 where recycled == nil {
                let result = try Command(unprivileged[0], Array(unprivileged.dropFirst()) + ["/bin/sh", "-c", probe]).run()
                let lines = result.stdoutText.split(separator: "\n", maxSplits: 1)
                guard lines.first.flatMap({ Int($0) }) == namespace, lines.count == 2 else { continue }
                recycled = HTTPResponse(Array(lines[1].utf8)).map(Answer.init)
            }
        }
        let answer = try #require(recycled, "no new namespace got a freed one's inode again in 5 rounds of 50 tries")
        #expect(answer == .notInContainer)
    }

    /// Leak 3: a connection is its process's, not its pid number's. Its process connected and
    /// exited before the daemon accepted (held up here by SIGSTOP), and another instance's
    /// process took the pid: the released daemon answered with that instance's secret.
    @Test(arguments: probes)
    func aRecycledPeerPIDInheritsNothing(probe: String) throws {
        let host = try GuestHost()
        let victim = try host.guest("victim", "--config", "user.secret=VICTIM-SECRET")
        kill(host.daemon.pid, SIGSTOP)
        defer { kill(host.daemon.pid, SIGCONT) }
        let orphan = try OrphanConnection(socket: host.socket)

        try Self.take(orphan.pid, in: victim)
        defer { kill(orphan.pid, SIGKILL) }
        kill(host.daemon.pid, SIGCONT)

        #expect(try orphan.ask("GET \(probe) HTTP/1.1\r\nHost: guest\r\n\r\n") == .notInContainer)
    }

    /// Leak 3, later: a connection whose process exited is never resolved again from its pid,
    /// whoever holds that pid when its instance is deleted or re-attached.
    @Test(arguments: ["delete", "attach"])
    func aConnectionOutlivingItsProcessInheritsNothing(change: String) throws {
        let host = try GuestHost()
        let victim = try host.guest("victim", "--config", "user.secret=VICTIM-SECRET")
        let tenant = try host.guest("tenant", "--config", "user.secret=TENANT-SECRET")
        let orphan = try OrphanConnection(
            socket: host.socket, firstRequest: "GET \(Self.secret) HTTP/1.1\r\nHost: guest\r\n\r\n",
            in: tenant.process)
        #expect(orphan.first == .raw("TENANT-SECRET"))

        try Self.take(orphan.pid, in: victim)
        defer { kill(orphan.pid, SIGKILL) }
        let restarted = try host.stranger()
        if change == "delete" {
            try host.cli.succeed("instance", "delete", "tenant")
        } else {
            try host.cli.succeed("instance", "attach", "tenant", "--pid", String(restarted.process.shellPID))
        }

        let answer = try orphan.ask("GET \(Self.secret) HTTP/1.1\r\nHost: guest\r\n\r\n")
        #expect(answer == nil || answer == .notInContainer, "\(String(describing: answer))")
    }

    /// The guest's init forks (`sleep 60`) until a child gets `pid`, a number just freed. The
    /// tries run in the guest's shell, a builtin write and a fork apart, so that other tests'
    /// forks on a busy machine rarely come between.
    static func take(_ pid: Int32, in guest: Guest, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let output = try guest.process.run(
            """
            i=0; while [ $i -lt 2000 ]; do i=$((i+1)); echo \(pid - 1) > /proc/sys/kernel/ns_last_pid; sleep 60 & p=$!
            [ $p = \(pid) ] && break; kill $p; done; echo $p
            """)
        guard Int32(output.text.trimmingCharacters(in: .whitespacesAndNewlines)) == pid else {
            Issue.record("pid \(pid) was taken by others 2000 times", sourceLocation: sourceLocation)
            throw EventSubscriberError.notStarted("pid \(pid) not taken")
        }
    }

    /// Leak 4: a process in one instance's PID namespace is that instance's, whatever its host
    /// ancestors: here it descends from another instance's registered init (`nsenter`).
    @Test func theNamespaceRuleComesBeforeAncestry() throws {
        let host = try GuestHost()
        let p1 = try host.guest("p1", "--config", "user.secret=P1", wrapper: ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc"])
        let p2 = try host.guest("p2", "--config", "user.secret=P2")
        let enter = [
            "/usr/bin/nsenter", "-t", String(p1.process.shellPID), "-p", "--",
            "curl", "-s", "-i", "--max-time", "10", "--unix-socket", host.socket, "http://guest" + Self.secret,
        ]

        let output = try p2.process.run(shellCommand(enter))

        #expect(HTTPResponse(output.stdout).map(Answer.init) == .raw("P1"))
        #expect(try p2.answer(Self.secret) == .raw("P2"))
    }

    /// Deleted while 100 keep-alive connections and 10 streams are open: all of them end at
    /// once, and an instance made right after is served.
    @Test func deletingAnInstanceEndsAllItsConnections() throws {
        let host = try GuestHost(daemonArguments: ["--max-conns-per-instance", "110"])
        let doomed = try host.guest("doomed", "--config", "user.secret=DOOMED")
        let holder = try ConnectionHolder(
            in: doomed.process, socket: host.socket, keepAlive: 100, webSockets: 5, streams: 5,
            then: host.adminCommand("instance", "delete", "doomed"))
        let outcome = try holder.outcome()
        let next = try host.guest("next", "--config", "user.secret=NEXT")

        #expect(outcome.exit == 0 && outcome.opened == 110)
        #expect(outcome.closed == 110)
        let last = try #require(outcome.lastCloseMilliseconds)
        print("deletingAnInstanceEndsAllItsConnections: the last of 110 connections closed \(last) ms after the delete")
        // 100 ms is the contract; a busy 2-core machine gets some slack here (tools/ measure it).
        #expect(last < 500, "the last connection closed \(last) ms after the delete")
        // The WebSocket closes say why.
        #expect(outcome.received.contains("instance deleted"))
        #expect(try next.answer(Self.secret) == .raw("NEXT"))
    }

    private func waitUntilGone(_ pid: Int32, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let deadline = Date().addingTimeInterval(10)
        while FileManager.default.fileExists(atPath: "/proc/\(pid)") {
            try #require(Date() < deadline, "process \(pid) still there", sourceLocation: sourceLocation)
            usleep(10_000)
        }
    }
}
