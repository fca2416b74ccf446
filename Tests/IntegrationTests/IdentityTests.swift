import Foundation
import Testing

/// README, "How a caller is recognized": who is calling, resolved from the connection's peer credentials.
/// Each instance has `user.whoami` = its name, so a 200 says which instance a caller became.
@Suite(.timeLimit(.minutes(3))) struct IdentityTests {
    static let whoami = "/1.0/config/user.whoami"

    /// curl asking for `user.whoami`, as a command line.
    static func curl(_ host: GuestHost) -> [String] {
        ["/usr/bin/curl", "-s", "-i", "--max-time", "10", "--unix-socket", host.socket, "http://guest" + whoami]
    }

    /// curl run by the test itself (no instance's descendant), with `prefix` (e.g. nsenter) in front.
    func hostCurl(_ host: GuestHost, prefix: [String] = []) throws -> Answer {
        let words = prefix + Self.curl(host)
        let result = try Command(words[0], Array(words.dropFirst())).run()
        return Answer(try #require(HTTPResponse(result.stdout), "\(result.command) exited \(result.status): \(result.stderr)"))
    }

    @Test func childOfTheRegisteredInitIsTheInstance() throws {
        let host = try GuestHost()
        let one = try host.guest("c1", "--config", "user.whoami=c1")
        let two = try host.guest("c2", "--config", "user.whoami=c2")

        #expect(try one.answer(Self.whoami) == .raw("c1"))
        #expect(try two.answer(Self.whoami) == .raw("c2"))
    }

    @Test func grandchildOfTheRegisteredInitIsTheInstance() throws {
        let host = try GuestHost()
        // The registered init is an outer shell; the guest's shell is its child, so curl is a grandchild.
        let outer = try GuestProcess(wrapper: ["/bin/sh", "-c", "\"$@\"; exit $?", "init"])
        try #require(outer.shellPID != outer.pid)
        try host.register("c1", pid: outer.pid, ["--config", "user.whoami=c1"])

        #expect(try Guest(process: outer, host: host).answer(Self.whoami) == .raw("c1"))
    }

    @Test func processEnteredIntoTheInstancePIDNamespaceIsTheInstance() throws {
        let host = try GuestHost()
        let guest = try host.guest(
            "c1", "--config", "user.whoami=c1",
            wrapper: ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc"])
        let initPID = guest.process.shellPID
        var namespace = stat()
        try #require(stat("/proc/\(initPID)/ns/pid", &namespace) == 0)
        #expect(try host.cli.show("c1").pidnsInode == Int(namespace.st_ino))

        // nsenter's child is in the namespace but descends from the test, not from the instance's init.
        #expect(try hostCurl(host, prefix: ["/usr/bin/nsenter", "-t", String(initPID), "-p", "--"]) == .raw("c1"))
        #expect(try hostCurl(host) == .notInContainer)
    }

    @Test func processUnderTheRegisteredCgroupIsTheInstance() throws {
        let host = try GuestHost()
        let cgroup = try TestCgroup()
        try host.cli.succeed("instance", "create", "c1", "--cgroup", cgroup.path, "--config", "user.whoami=c1")
        // A sibling whose name merely starts with the instance's: not at or under it.
        let sibling = try TestCgroup(path: cgroup.path + "-sibling")
        let inside = try host.stranger()
        let beside = try host.stranger()
        #expect(try inside.answer(Self.whoami) == .notInContainer)

        try cgroup.add(inside.process.shellPID, to: try cgroup.subgroup("payload"))
        try sibling.add(beside.process.shellPID)

        #expect(try inside.answer(Self.whoami) == .raw("c1"))
        #expect(try beside.answer(Self.whoami) == .notInContainer)
    }

    @Test func unregisteredProcessIsNotInAContainer() throws {
        let host = try GuestHost()
        let registered = try host.guest("c1", "--config", "user.whoami=c1")
        let stranger = try host.stranger()

        for path in ["/", "/1.0", Self.whoami, "/1.0/config", "/1.0/devices", "/1.0/meta-data", "/1.0/events"] {
            #expect(try stranger.answer(path) == .notInContainer, "\(path)")
        }
        #expect(try registered.answer(Self.whoami) == .raw("c1"))
    }

    @Test func unregisteredConnectionIsClosedAfterItsAnswer() throws {
        let stranger = try GuestHost().stranger()

        let replies = try stranger.session([.get("/1.0"), .get("/1.0")])

        #expect(replies.map(\.answer) == [.notInContainer, .notInContainer])
        #expect(replies.map(\.connection) == [1, 2], "the daemon closed the first connection")
    }

    @Test func callerUIDMustBeTheInstanceRootUID() throws {
        let host = try GuestHost()
        chmod(host.state.directory, 0o755)  // so that uid 1000 reaches the socket, as through a bind mount
        let asUser1000 = ["/usr/bin/setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"]
        let privileged = try host.guest("c1", "--config", "user.whoami=c1", wrapper: asUser1000)
        let mapped = try host.guest("c2", "--config", "user.whoami=c2", "--root-uid", "1000", wrapper: asUser1000)

        #expect(try privileged.answer(Self.whoami) == .nonRootUser)
        #expect(try privileged.answer("/1.0") == .nonRootUser)
        #expect(try mapped.answer(Self.whoami) == .raw("c2"))
    }

    @Test func recycledInitPIDDoesNotInheritTheInstance() throws {
        let host = try GuestHost()
        var original: Guest? = try host.guest("c1", "--config", "user.whoami=c1")
        let pid = original!.process.shellPID
        #expect(try original!.answer(Self.whoami) == .raw("c1"))
        original = nil  // killed and reaped: the pid number is free
        try #require(!FileManager.default.fileExists(atPath: "/proc/\(pid)"))

        let response = try #require(
            try PIDRecycler.run(as: pid, shellCommand(Self.curl(host))),
            "other processes took pid \(pid) every time")

        #expect(Answer(response) == .notInContainer)
    }

    /// Re-attached to another process: the old process's open connection is closed, not
    /// resolved again, and the new process is the instance.
    @Test func attachMovesTheInstanceAndOpenConnectionsNotice() throws {
        let host = try GuestHost()
        let old = try host.guest("c1", "--config", "user.whoami=c1")
        let new = try host.stranger()

        let replies = try old.session([
            .get(Self.whoami),
            .run(host.adminCommand("instance", "attach", "c1", "--pid", String(new.process.shellPID))),
            .run(["sleep", "0.5"]),
            .get(Self.whoami),
        ])

        try #require(replies.count == 4)
        #expect(replies[0].answer == .raw("c1"))
        #expect(replies[1].exit == 0)
        #expect(replies[3].answer == .notInContainer)
        #expect(replies[3].connection == 2, "the daemon closed the first connection")
        #expect(try new.answer(Self.whoami) == .raw("c1"))
    }

    /// Re-attached to a process whose tree the connection's process is in: it stays.
    @Test func attachKeepsTheConnectionsOfTheNewInitsTree() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.whoami=c1")

        let replies = try guest.session([
            .get(Self.whoami),
            .run(host.adminCommand("instance", "attach", "c1", "--pid", String(guest.process.shellPID))),
            .run(["sleep", "0.5"]),
            .get(Self.whoami),
        ])

        try #require(replies.count == 4)
        #expect(replies[1].exit == 0)
        #expect(replies[3].answer == .raw("c1"))
        #expect(replies[3].connection == 1, "one connection throughout")
    }

    /// The daemon ends a deleted instance's open connections (TenantIsolationTests times it).
    @Test func deleteEndsAnOpenConnection() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.whoami=c1")

        let replies = try guest.session([
            .get(Self.whoami),
            .run(host.adminCommand("instance", "delete", "c1")),
            .run(["sleep", "0.5"]),
            .get(Self.whoami),
        ])

        try #require(replies.count == 4)
        #expect(replies[0].answer == .raw("c1"))
        #expect(replies[1].exit == 0)
        #expect(replies[3].answer == .notInContainer)
        #expect(replies[3].connection == 2, "the daemon closed the first connection")
    }

    /// One request on a connection of its own, which the daemon closes after the answer.
    static let getOnItsOwn = SessionStep.raw("GET \(whoami) HTTP/1.1\r\nHost: guest\r\nConnection: close\r\n\r\n")

    /// `guestapi_identity_remembered_total`: callers answered from what the rules found for
    /// their process within the second before.
    static func remembered(_ host: GuestHost) throws -> Int? {
        let metrics = try OperationsTests.admin(host.state, "/metrics").body
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("guestapi_identity_remembered_total ") }
        return line.flatMap { Int($0.split(separator: " ")[1]) }
    }

    /// CLOCK_MONOTONIC in seconds, as python's `time.monotonic()` (the sessions' `at`).
    static func monotonic() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// A process that connects again within a second is answered from what the rules found
    /// for it, until the next commit. Here the commit makes the caller's nearer ancestor another
    /// instance: a remembered answer would be the first instance's.
    @Test func aProcessIsRememberedUntilTheNextCommit() throws {
        let host = try GuestHost()
        let outer = try GuestProcess(wrapper: ["/bin/sh", "-c", "\"$@\"; exit $?", "init"])
        try #require(outer.shellPID != outer.pid)
        try host.register("c1", pid: outer.pid, ["--config", "user.whoami=c1"])

        let replies = try Guest(process: outer, host: host).session([
            Self.getOnItsOwn, Self.getOnItsOwn,
            .run(host.adminCommand("instance", "create", "c2", "--pid", String(outer.shellPID), "--config", "user.whoami=c2")),
            Self.getOnItsOwn,
        ])

        try #require(replies.count == 4)
        #expect(replies.map(\.answer) == [.raw("c1"), .raw("c1"), nil, .raw("c2")])
        #expect(replies[2].exit == 0)
        #expect(try Self.remembered(host) == 1, "the second connection, and only it")
        try #require(replies[3].at - replies[0].at < 0.9, "too slow to tell a process forgotten from one expired")
    }

    /// Remembered by process, not by pid number: a process given a remembered process's pid
    /// within its second is resolved by the rules (here: no instance).
    @Test func aRecycledPIDIsNotRemembered() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.whoami=c1")
        let replies = try guest.session([Self.getOnItsOwn, Self.getOnItsOwn])
        #expect(replies.map(\.answer) == [.raw("c1"), .raw("c1")])
        let pid = try #require(replies.last?.pid)
        try #require(!FileManager.default.fileExists(atPath: "/proc/\(pid)"), "the session's process is gone")

        // curl exec'd in place, so that the caller itself has the pid.
        let response = try #require(
            try PIDRecycler.run(as: pid, "exec " + shellCommand(Self.curl(host))),
            "other processes took pid \(pid) every time")

        try #require(Self.monotonic() - replies[0].at < 0.9, "too slow to tell a new process from an expired one")
        #expect(Answer(response) == .notInContainer)
        #expect(try Self.remembered(host) == 1)
    }
}
