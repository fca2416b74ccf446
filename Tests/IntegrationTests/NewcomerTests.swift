import Foundation
import Testing

/// What a new user and an operator meet first (README, "Admin CLI" and "Operating it"): global
/// options anywhere, a mistyped command told the nearest, help that shows what a command
/// takes, one error style for both binaries, JSON that keeps its types, and a STATE that
/// tells the truth.
@Suite(.timeLimit(.minutes(3)))
struct NewcomerTests {
    /// `--state-dir`, `--db` and `--format` before the subcommand, as the README writes them.
    @Test(arguments: [["--state-dir", "STATE"], ["--state-dir=STATE"], ["--db", "STATE/guestapi.db", "--state-dir", "STATE"]])
    func globalOptionsComeBeforeTheSubcommandToo(globals: [String]) throws {
        let cli = try AdminCLI()
        try cli.succeed("instance", "create", "c1")
        let before = globals.map { $0.replacingOccurrences(of: "STATE", with: cli.state.directory) }
        for arguments in [before + ["--format", "json", "instance", "list"], before + ["instance", "list", "--format", "json"]] {
            let result = try Command(Binaries.admin, arguments).run()
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(result.stdoutText.contains(#""name":"c1""#), "\(arguments): \(result.stdoutText)")
        }
        let set = try Command(Binaries.admin, before + ["set", "user.a", "--", "-1"]).run()
        #expect(set.status == 0, "a value after -- stays a value: \(set.stderr)")
        #expect(try cli.succeed("get", "user.a") == "-1\n")
    }

    @Test(arguments: [
        (["instnace", "list"], "unknown command 'instnace' (did you mean 'instance'?)"),
        (["instance", "lsit"], "unknown command 'lsit' (did you mean 'list'?)"),
        (["jurnal"], "unknown command 'jurnal' (did you mean 'journal'?)"),
        (["frobnicate"], "unknown command 'frobnicate'"),
    ])
    func aMistypedCommandIsToldTheNearest(arguments: [String], said: String) throws {
        let cli = try AdminCLI()
        let result = try cli.run(arguments)
        #expect(result.status == 64)
        #expect(result.stderrLines == ["guestapi-admin: \(said) (see --help)"])
    }

    /// `journal` is `journal show`: its help says what show takes.
    @Test func journalHelpShowsWhatShowTakes() throws {
        let help = try Command(Binaries.admin, ["journal", "--help"]).run().stdoutText
        for option in ["--since", "--follow", "--instance", "--type", "--limit", "show --help"] {
            #expect(help.contains(option), "journal --help does not mention \(option)")
        }
    }

    /// Both binaries: a usage error is one line, `NAME: what (see --help)`, exit 64.
    @Test(arguments: [
        ([Binaries.daemon, "--threads", "0"], "guestapid: --threads must be between 1 and 256 (see --help)"),
        ([Binaries.daemon, "--log-level", "loud"], "guestapid: "),
        ([Binaries.daemon, "--bogus"], "guestapid: Unknown option '--bogus' (see --help)"),
        ([Binaries.admin, "journal", "--limit", "-1"], "guestapi-admin: --limit must not be negative (see --help)"),
        ([Binaries.admin, "--bogus", "instance", "list"], "guestapi-admin: "),
    ])
    func aUsageErrorIsOneLine(command: [String], said: String) throws {
        let cli = try AdminCLI()
        let result = try Command(command[0], Array(command.dropFirst()) + cli.state.arguments).run()
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderrLines.count == 1 && result.stderrLines[0].hasPrefix(said), "\(result.stderr)")
        #expect(result.stderr.hasSuffix("(see --help)\n"))
    }

    /// `status --format json`: an object with `running`, whether or not the daemon runs.
    @Test func statusJSONAlwaysSaysWhetherItRuns() throws {
        let cli = try AdminCLI()
        let stopped = try cli.run(["status", "--format", "json"])
        #expect(stopped.status == 3)
        #expect(try Self.object(stopped.stdout)["running"] as? Bool == false)

        let daemon = try Daemon(state: cli.state)
        let running = try cli.run(["status", "--format", "json"])
        #expect(running.status == 0, "\(running.stderr)")
        let fields = try Self.object(running.stdout)
        #expect(fields["running"] as? Bool == true)
        #expect(fields["healthy"] as? Bool == true)
        #expect((fields["pid"] as? Int) == Int(daemon.pid))
    }

    /// Running, but its admin socket elsewhere: still one JSON object, unhealthy.
    @Test func statusJSONWhenTheAdminSocketDoesNotAnswer() throws {
        let cli = try AdminCLI()
        let daemon = try Daemon(state: cli.state, arguments: ["--admin-socket", cli.state.directory + "/elsewhere.sock"])
        let result = try cli.run(["status", "--format", "json"])
        #expect(result.status == 1 && result.stderrLines.count == 1)
        let fields = try Self.object(result.stdout)
        #expect(fields["running"] as? Bool == true && fields["healthy"] as? Bool == false && fields["pid"] as? Int == Int(daemon.pid))
    }

    /// A state folder that cannot be made (here, in /proc) is one line, not a crash.
    @Test func aStateFolderThatCannotBeMadeIsOneLine() throws {
        let result = try Command(Binaries.daemon, ["--state-dir", "/proc/guestapi-nope"]).run(timeout: .seconds(10))
        #expect(
            result.status == 1 && result.stderrLines == ["guestapid: cannot create folder /proc/guestapi-nope: No such file or directory"])
    }

    /// `journal --follow` as a table: one header, and each column where the header put it.
    @Test func followingTheJournalPrintsOneAlignedTable() throws {
        let cli = try AdminCLI()
        try cli.succeed("instance", "create", "c1")
        let follower = try Command(Binaries.admin, ["journal", "--follow"] + cli.state.arguments).start()
        defer { follower.signal(SIGKILL) }
        let deadline = Date().addingTimeInterval(10)
        while !String(decoding: follower.stdoutSoFar, as: UTF8.self).contains("instance-created") && Date() < deadline { usleep(10_000) }
        try cli.succeed("set", "user.a-much-longer-key-than-any-before", "v", "--instance", "c1")
        try cli.succeed("set", "user.b", "w", "--instance", "c1")
        // The header, instance-created, volatile.cloud-init.instance-id, then the two keys.
        while String(decoding: follower.stdoutSoFar, as: UTF8.self).split(separator: "\n").count < 5 && Date() < deadline { usleep(10_000) }

        let lines = String(decoding: follower.stdoutSoFar, as: UTF8.self).split(separator: "\n").map(String.init)
        try #require(lines.count == 5, "\(lines)")
        #expect(lines[0].hasPrefix("ID "), "\(lines)")
        #expect(lines.dropFirst().allSatisfy { !$0.hasPrefix("ID ") }, "one header")
        // A row after a longer cell than any before is back where the header put its columns.
        let valueAt = try #require(lines[0].range(of: "VALUE")).lowerBound.utf16Offset(in: lines[0])
        #expect(lines[3].contains("user.a-much-longer-key-than-any-before"), "a longer cell kept whole: \(lines)")
        #expect(lines[4].utf16.count == valueAt + 1 && lines[4].hasSuffix("w"), "\(lines)")
        // TIME and INSTANCE start where the header says, in every row.
        for column in ["TIME", "INSTANCE", "TYPE"] {
            let offset = try #require(lines[0].range(of: column)).lowerBound.utf16Offset(in: lines[0])
            for line in lines.dropFirst() {
                let before = line.utf16.index(line.startIndex, offsetBy: offset)
                #expect(line[line.index(before: before)] == " " && line[before] != " ", "\(column) in \(line)")
            }
        }
    }

    /// An instance no rule can recognize (made without an init or a cgroup) is Unbound, not
    /// Started; attached, it is Started. (`export` carries no state: it is an apply file.)
    @Test func anInstanceWithNoIdentityIsUnbound() throws {
        let cli = try AdminCLI()
        try cli.succeed("instance", "create", "c1")
        #expect(try cli.show("c1").state == "Unbound")
        #expect(try cli.succeed("instance", "list").contains("Unbound"))
        let process = try GuestProcess()
        try cli.succeed("instance", "attach", "c1", "--pid", String(process.shellPID))
        #expect(try cli.show("c1").state == "Started")
    }

    /// `--log-format json`: numbers and flags as JSON's own, not strings.
    @Test func jsonLogsKeepTheirTypes() throws {
        let host = try GuestHost(daemonArguments: ["--log-format", "json", "--log-level", "debug"])
        let guest = try host.guest("c1", "--config", "user.a=1")
        #expect(try guest.answer("/1.0/config/user.a") == .raw("1"))
        let deadline = Date().addingTimeInterval(10)
        var lines: [[String: Any]] = []
        while true {
            lines = host.daemon.process.stderrSoFar.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            if lines.contains(where: { $0["msg"] as? String == "request" }) || Date() > deadline { break }
            usleep(10_000)
        }
        let request = try #require(lines.first { $0["msg"] as? String == "request" && $0["path"] as? String == "/1.0/config/user.a" })
        #expect(request["status"] as? Int == 200, "\(request)")
        #expect(request["bytes"] as? Int == 1, "\(request)")
        #expect(request["us"] is Int && !(request["us"] is String), "\(request)")
        #expect(request["instance"] as? String == "c1")
        let started = try #require(lines.first { $0["msg"] as? String == "started" })
        #expect(started["socket_activation"] as? Bool == false, "\(started)")
        let resolved = try #require(lines.first { $0["msg"] as? String == "identity resolved" })
        #expect(resolved["pid"] is Int && resolved["resolve_ns"] is Int, "\(resolved)")
    }

    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any], "\(String(decoding: bytes, as: UTF8.self))")
    }
}
