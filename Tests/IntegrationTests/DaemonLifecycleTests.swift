import Foundation
import Testing

/// README, "guestapid": guestapid's start, lock, crash recovery and stop.
@Suite(.timeLimit(.minutes(3))) struct DaemonLifecycleTests {
    /// A daemon with one registered guest; `serves` says whether that guest gets its answer now.
    struct Stage {
        let host: GuestHost
        let guest: Guest

        init() throws {
            host = try GuestHost()
            guest = try host.guest("c1", "--config", "user.foo=bar")
        }

        func serves() throws -> Bool { try guest.answer("/1.0/config/user.foo") == .raw("bar") }
    }

    @Test func startupLineNamesTheSocketAndTheDatabase() throws {
        let stage = try Stage()
        let printed = String(decoding: stage.host.daemon.process.stdoutSoFar, as: UTF8.self)
        #expect(printed.split(separator: "\n").count == 1)
        #expect(printed.contains(stage.host.socket) && printed.contains(stage.host.state.database))
    }

    @Test func socketIsReadableAndWritableByAll() throws {
        let stage = try Stage()
        var info = stat()
        try #require(lstat(stage.host.socket, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        #expect(String(info.st_mode & 0o7777, radix: 8) == "666")
    }

    @Test func secondDaemonOnTheSameStateRefusesAndTheFirstKeepsServing() throws {
        let stage = try Stage()

        let second = try Command(Binaries.daemon, stage.host.state.arguments).run(timeout: .seconds(15))

        #expect(second.status != 0)
        #expect(second.stderrLines.count == 1, "one line: \(second.stderr)")
        #expect(second.stderr.contains("another guestapid"), "\(second.stderr)")
        #expect(stage.host.daemon.process.isRunning)
        #expect(try stage.serves())
    }

    @Test func daemonOnAnotherStateNeverStealsALiveSocket() throws {
        let stage = try Stage()
        let other = try TemporaryState()

        let second = try Command(Binaries.daemon, other.arguments + ["--socket", stage.host.socket]).run(timeout: .seconds(15))

        #expect(second.status != 0)
        #expect(second.stderrLines.count == 1 && second.stderr.contains(stage.host.socket), "\(second.stderr)")
        #expect(try stage.serves())
    }

    @Test func restartAfterACrashReplacesTheStaleSocket() throws {
        let stage = try Stage()

        try stage.host.daemon.crash()
        try #require(FileManager.default.fileExists(atPath: stage.host.socket), "kill -9 leaves the socket behind")
        #expect(try stage.guest.process.curl(stage.host.socket, "/1.0").status == 7, "nobody listens: curl cannot connect")
        try stage.host.daemon.restart()

        #expect(try stage.serves())
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func stopSignalExitsZeroAndRemovesTheSocket(signal: Int32) throws {
        let stage = try Stage()
        try #require(try stage.serves())

        stage.host.daemon.process.signal(signal)
        let result = try stage.host.daemon.process.wait(timeout: .seconds(15))

        #expect(result.status == 0, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stage.host.socket))
    }

    /// A stop signal sent once the socket exists, while the daemon may still be starting (a
    /// client, or systemd, can act on it by then), stops it as gracefully as one sent later.
    /// It used to be lost, or to kill the daemon on the spot, until the daemon had started.
    @Test func aStopSignalAsTheSocketAppearsStopsItGracefully() throws {
        for _ in 0..<5 {
            let state = try TemporaryState()
            let daemon = try Command(Binaries.daemon, state.arguments).start()
            let deadline = Date().addingTimeInterval(20)
            while !FileManager.default.fileExists(atPath: state.socket), daemon.isRunning, Date() < deadline { usleep(100) }
            daemon.signal(SIGTERM)
            let result = try daemon.wait(timeout: .seconds(15))

            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("msg=stopped"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: state.socket))
        }
    }
}
