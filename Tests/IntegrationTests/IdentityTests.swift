import Foundation
import Testing

/// SPEC.md section 2: who is calling, resolved from the connection's peer credentials.
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
        let guest = try host.guest("c1", "--config", "user.whoami=c1",
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
        let inside = try host.stranger(), beside = try host.stranger()
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

        let response = try #require(try PIDRecycler.run(as: pid, shellCommand(Self.curl(host))),
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
}
