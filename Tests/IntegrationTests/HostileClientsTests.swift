import Foundation
import Testing

/// Hostile guests, slow and greedy clients (README, "Limits a guest cannot pass"), driven by
/// tools/hardening/slow_clients.py: a request must arrive within 3 s, an instance holds at
/// most 256 connections, unidentified callers cannot crowd out identified ones, and a peer
/// that never reads cannot make the daemon queue answers without bound. (The 30 s idle
/// keep-alive close is checked by tools/hardening/slow-timeouts.sh, too slow for the suite.)
@Suite(.serialized, .timeLimit(.minutes(3))) struct HostileClientsTests {
    struct Trickle: Decodable {
        var closed_after: Double
        var bytes_sent: Int
        var status: Int?
    }

    struct Hold: Decodable {
        var opened: Int
        var refused: Int
        var first_refused: Int?
        var served: Int
    }

    struct Holding: Decodable { var holding: Int }

    struct Probe: Decodable {
        var requests: Int
        var ok: Int
        var max_seconds: Double
        var median_seconds: Double
        var failures: [String: Int]
    }

    static let unidentified = 2_000

    struct Pipeline: Decodable {
        var sent: Int
        var held: Bool
        var rss_kb: Int
    }

    /// A head, or a body after its head (which shares the head's deadline: otherwise a body
    /// announced and trickled would hold a connection for ever), sent one byte a second.
    @Test func aRequestSentOneBytePerSecondIsCutAtThreeSeconds() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1")
        let outputs = ["slow-head", "slow-body"].map { host.state.directory + "/\($0).out" }
        for (mode, output) in zip(["slow-head", "slow-body"], outputs) {
            _ = try HardeningTools.start("slow_clients.py", [mode, host.socket], in: guest.process, output: output)
        }
        let (head, body) = (
            try HardeningTools.waitFor(Trickle.self, in: outputs[0]), try HardeningTools.waitFor(Trickle.self, in: outputs[1])
        )

        #expect((2.5...10).contains(head.closed_after), "head: closed after \(head.closed_after) s")
        #expect(head.bytes_sent <= 5)
        #expect(head.status == nil, "a head cut short is not answered")
        #expect((2.5...10).contains(body.closed_after), "body: closed after \(body.closed_after) s")
    }

    @Test func anInstanceGetsItsFirst256ConnectionsAndAnotherIsServedThroughout() throws {
        let host = try GuestHost()
        let greedy = try host.guest("greedy")
        let other = try host.guest("other")
        let folder = host.state.directory
        let probing = folder + "/probe.out"
        let holding = folder + "/hold.out"

        _ = try HardeningTools.start(
            "slow_clients.py", ["probe", host.socket, "--until", folder + "/stop-probe", "--expect", "container"],
            in: other.process, output: probing)
        _ = try HardeningTools.start(
            "slow_clients.py", ["hold", host.socket, "1000", "--until", folder + "/release"],
            in: greedy.process, output: holding)
        let held = try HardeningTools.waitFor(Holding.self, in: holding)
        #expect(held.holding == 1000)
        #expect(FileManager.default.createFile(atPath: folder + "/release", contents: nil))
        let hold = try HardeningTools.waitFor(Hold.self, in: holding)
        #expect(FileManager.default.createFile(atPath: folder + "/stop-probe", contents: nil))
        let probe = try HardeningTools.waitFor(Probe.self, in: probing)

        #expect(hold.opened == 1000)
        // Two event loops take accepted connections in turn, so the cut is at about the 256th.
        #expect(hold.refused == 744 && (hold.first_refused ?? 0) >= 240, "\(hold)")
        #expect(hold.served == 256, "each connection it kept is served")
        #expect(probe.requests > 0 && probe.ok == probe.requests, "\(probe)")
        print(
            "1,000 connections from one instance: \(hold.opened - hold.refused) kept, \(hold.refused) refused from #\(hold.first_refused ?? -1); "
                + "the other instance meanwhile: \(probe.ok)/\(probe.requests) served, median \(probe.median_seconds) s, max \(probe.max_seconds) s"
        )
    }

    /// Unidentified callers share one allowance (the per-instance limit): they cannot hold the
    /// daemon's descriptors, and identified callers are served all along. 2,000 here, as a
    /// debug daemon takes about a millisecond to resolve and refuse each; 10,000 with
    /// tools/hardening/unidentified-flood.sh.
    @Test func thousandsOfUnidentifiedConnectionsDoNotStopIdentifiedOnes() throws {
        let host = try GuestHost()
        let stranger = try host.stranger()
        let guest = try host.guest("c1")
        let folder = host.state.directory
        let probing = folder + "/probe.out"
        let holding = folder + "/hold.out"

        _ = try HardeningTools.start(
            "slow_clients.py", ["probe", host.socket, "--until", folder + "/stop-probe", "--expect", "container"],
            in: guest.process, output: probing)
        _ = try HardeningTools.start(
            "slow_clients.py", ["hold", host.socket, String(Self.unidentified), "--until", folder + "/release"],
            in: stranger.process, output: holding)
        let held = try HardeningTools.waitFor(Holding.self, in: holding, timeout: 120)
        let descriptors = DaemonUsage.openDescriptors(host.daemon.pid)
        #expect(try guest.answer("/1.0/config") == .json("[]"), "served while they are held")
        #expect(FileManager.default.createFile(atPath: folder + "/release", contents: nil))
        let hold = try HardeningTools.waitFor(Hold.self, in: holding, timeout: 120)
        #expect(FileManager.default.createFile(atPath: folder + "/stop-probe", contents: nil))
        let probe = try HardeningTools.waitFor(Probe.self, in: probing)

        #expect(held.holding == Self.unidentified)
        #expect(descriptors < 500, "the daemon held \(descriptors) descriptors for them")
        #expect(hold.opened - hold.refused <= 256, "\(hold)")
        #expect(probe.requests > 0 && probe.ok == probe.requests, "\(probe)")
        #expect(probe.max_seconds < 20, "\(probe)")
        #expect(host.daemon.process.isRunning)
        print(
            "\(hold.opened) unidentified connections: \(hold.opened - hold.refused) kept, \(hold.refused) refused, daemon at \(descriptors) descriptors; "
                + "an identified guest meanwhile: \(probe.ok)/\(probe.requests) served, median \(probe.median_seconds) s, max \(probe.max_seconds) s"
                + (probe.failures.isEmpty ? "" : ", failures \(probe.failures)"))
    }

    /// Pipelined requests for a 1 MiB value, never read: the daemon stops reading them
    /// rather than queueing 300 MiB of answers.
    @Test func aClientThatNeverReadsItsAnswersIsNotQueuedFor() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1")
        let file = host.state.directory + "/big"
        try Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: file))
        try host.cli.succeed("set", "user.big", "--file", file)
        _ = try guest.answer("/1.0/config/user.big")
        let before = try #require(DaemonUsage.residentKiB(host.daemon.pid))

        let (results, lines) = try HardeningTools.run(
            Pipeline.self, "slow_clients.py",
            ["pipeline", host.socket, "/1.0/config/user.big", "300", "--rss-pid", String(host.daemon.pid)],
            in: guest.process)
        let result = try #require(results.first, "\(lines)")

        #expect(result.held, "the daemon kept reading requests whose answers nobody read")
        #expect(result.rss_kb - before < 32 * 1024, "resident memory grew from \(before) to \(result.rss_kb) KiB")
        #expect(try guest.answer("/1.0/config") == .json(#"["/1.0/config/user.big"]"#))
    }
}
