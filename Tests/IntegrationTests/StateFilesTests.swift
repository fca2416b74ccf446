import Foundation
import Testing

/// README, "Files": the state's files are private where they hold tenants' data, and a root
/// daemon never writes through a link or into a folder someone else controls.
@Suite(.timeLimit(.minutes(2)))
struct StateFilesTests {
    static func mode(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return String(info.st_mode & 0o7777, radix: 8)
    }

    /// A root-owned file outside the state, and its bytes, for a link to point at.
    static func rootFile() throws -> (path: String, bytes: Data) {
        let path = NSTemporaryDirectory() + "guestapi-root-file-\(UUID().uuidString)"
        let bytes = Data("root's own file\nline two\n".utf8)
        try bytes.write(to: URL(fileURLWithPath: path))
        chmod(path, 0o644)
        return (path, bytes)
    }

    @Test func aNewStateHasPrivateFiles() throws {
        let host = try GuestHost()
        try host.cli.succeed("instance", "create", "c1", "--config", "user.secret=s")  // the WAL and shm exist now

        #expect(Self.mode(host.state.database) == "600")
        #expect(Self.mode(host.state.database + "-wal") == "600")
        #expect(Self.mode(host.state.database + "-shm") == "600")
        #expect(Self.mode(host.state.directory + "/guestapid.lock") == "600")
        #expect(Self.mode((host.socket as NSString).deletingLastPathComponent) == "755")
        #expect(Self.mode(host.socket) == "666")
    }

    @Test func aStateFolderMadeByTheDaemonIs0711() throws {
        let state = try TemporaryState()
        let folder = state.directory + "/new-state"
        let daemon = try Command(Binaries.daemon, ["--state-dir", folder]).start()
        defer { daemon.signal(SIGKILL) }
        let deadline = Date().addingTimeInterval(20)
        while !String(decoding: daemon.stdoutSoFar, as: UTF8.self).contains("serving") && Date() < deadline { usleep(10_000) }

        #expect(Self.mode(folder) == "711")
        #expect(Self.mode(folder + "/guestapi.db") == "600")
    }

    /// A database made by the released guestapi was 0644: the daemon makes it private.
    @Test func anExistingReadableDatabaseIsMadePrivate() throws {
        let cli = try AdminCLI()
        try cli.succeed("instance", "create", "c1")
        chmod(cli.state.database, 0o644)
        let daemon = try Daemon(state: cli.state)

        #expect(Self.mode(cli.state.database) == "600")
        #expect(daemon.process.stderrSoFar.contains("made it 0600"))
    }

    @Test(arguments: ["owner", "mode"])
    func aStateFolderOthersControlIsRefused(by problem: String) throws {
        let state = try TemporaryState()
        if problem == "owner" { chown(state.directory, 65534, 65534) } else { chmod(state.directory, 0o777) }

        let daemon = try Command(Binaries.daemon, state.arguments).run(timeout: .seconds(15))
        let cli = try Command(Binaries.admin, ["instance", "create", "c1"] + state.arguments).run()

        for result in [daemon, cli] {
            #expect(result.status == 1)
            #expect(result.stderrLines.count == 1, "\(result.stderr)")
            #expect(result.stderr.contains(problem == "owner" ? "belongs to uid 65534" : "may be written by others"), "\(result.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: state.directory).isEmpty, "nothing was made there")
    }

    /// A lock file or socket path that is a link to a root file: the daemon refuses with one
    /// line, and the file is left byte for byte.
    @Test(arguments: ["guestapid.lock", "guestapi/sock"])
    func aLinkWhereTheDaemonWritesIsNeverFollowed(name: String) throws {
        let state = try TemporaryState()
        let target = try Self.rootFile()
        defer { try? FileManager.default.removeItem(atPath: target.path) }
        let link = state.directory + "/" + name
        try FileManager.default.createDirectory(atPath: (link as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try #require(symlink(target.path, link) == 0)

        let result = try Command(Binaries.daemon, state.arguments).run(timeout: .seconds(15))

        #expect(result.status == 1)
        #expect(result.stderrLines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(link), "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: target.path) == target.bytes)
        #expect(Self.mode(target.path) == "644")
    }

    /// A lock file that holds something other than a pid is not truncated.
    @Test func aForeignLockFileIsLeftAlone() throws {
        let state = try TemporaryState()
        let lock = state.directory + "/guestapid.lock"
        let bytes = Data("not a pid: someone's notes\n".utf8)
        try bytes.write(to: URL(fileURLWithPath: lock))

        let result = try Command(Binaries.daemon, state.arguments).run(timeout: .seconds(15))

        #expect(result.status == 1 && result.stderr.contains("holds something other than a pid"), "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: lock) == bytes)
    }
}
