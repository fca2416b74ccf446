import Foundation
import Testing

/// Hostile guests on `/1.0/events` (README, "Events and replay" and "Limits a guest cannot pass"): hand-made WebSocket frames
/// from tools/hardening/ws_abuse.py. Each abuse ends the stream (or, for a ping flood, the
/// daemon stops reading), the daemon's memory stays put, and other subscribers go on.
/// (A client that never answers pings is closed after about 30 s: tools/hardening/slow-timeouts.sh.)
@Suite(.timeLimit(.minutes(3))) struct HostileWebSocketTests {
    struct Abuse: Decodable {
        var name: String
        var upgraded: Bool
        var ended: Bool
        var held: Bool
        var close_code: Int?
        var rss_kb: Int?
        var why: String
    }

    @Test func abusiveFramesEndTheStreamAndTheDaemonDoesNotGrow() throws {
        let harness = try EventsHarness()
        let watcher = try harness.subscribe()
        let pid = harness.daemon.pid
        let before = try #require(DaemonUsage.residentKiB(pid))

        let (results, lines) = try HardeningTools.run(
            Abuse.self, "ws_abuse.py", [harness.host.socket, "--rss-pid", String(pid)], in: harness.guest.process)

        #expect(results.count >= 30, "\(lines)")
        for result in results where !result.why.isEmpty {
            Issue.record("\(result.name): \(result.why)")
        }
        // RFC 6455 asks a server to fail a connection that breaks the protocol with 1002.
        for name in [
            "reserved-bit-1", "reserved-bit-2", "reserved-bit-3", "unmasked-ping", "unmasked-pong", "unmasked-text",
            "unmasked-close", "fragmented-ping", "oversize-ping", "close-one-byte", "close-code-1005", "close-code-5000",
        ] {
            let result = results.first { $0.name == name }
            #expect(result?.close_code == 1002, "\(name): \(result.map { "\($0)" } ?? "missing")")
        }
        #expect(results.first { $0.name == "oversize-text" }?.close_code == 1009)
        #expect(results.first { $0.name == "close-normal" }?.close_code == 1000)
        #expect(results.first { $0.name == "ping-flood-never-read" }?.held == true, "the daemon read pings whose pongs nobody read")
        let peak = results.compactMap(\.rss_kb).max() ?? before
        #expect(peak - before < 16 * 1024, "resident memory grew from \(before) to \(peak) KiB")
        print(
            "WebSocket abuse: \(results.count) cases, \(results.filter(\.ended).count) ended by the daemon, "
                + "\(results.filter(\.held).count) held by back-pressure; resident \(before) KiB before, \(peak) KiB at peak")

        // The daemon is still there, and a well-behaved subscriber still gets its events.
        #expect(harness.daemon.process.isRunning)
        try harness.admin("set", "user.after", "abuse")
        #expect(try watcher.waitForMessage(containing: "user.after").count == 1)
    }

    /// A subscriber that never reads while 1,600 events of 1 KiB come (socket buffers take a
    /// few hundred): cut off, and what the daemon queued for it is let go.
    @Test func aSubscriberThatNeverReadsIsCutOffAndTheDaemonDoesNotGrow() throws {
        let harness = try EventsHarness()
        let normal = try harness.subscribe()
        let stalled = try harness.subscribe(holding: true)
        let before = try #require(DaemonUsage.residentKiB(harness.daemon.pid))
        let value = String(repeating: "v", count: 1024)
        try harness.apply(config: Dictionary(uniqueKeysWithValues: (0..<1_600).map { ("user.k\($0)", value) }))
        // Everything was sent once a reader that keeps up has it all.
        try normal.waitForMessages(1_600, timeout: .seconds(60))
        // A subscriber that takes nothing of what waits for it for 5 s is cut off.
        try DaemonMetrics.wait(harness.host.state, "guestapi_event_streams_cut_total", atLeast: 1)

        stalled.release()
        let received = try stalled.waitUntil("the cut-off") { $0.closed != nil }
        let after = try #require(DaemonUsage.residentKiB(harness.daemon.pid))

        #expect(received.messages.count < 1_600, "it was not cut off")
        #expect(after - before < 32 * 1024, "resident memory grew from \(before) to \(after) KiB")
        #expect(harness.daemon.process.isRunning)
    }

    /// `since` is our extension: a value that does not decode is refused, not read as absent
    /// (which would start a live stream without ids).
    @Test(arguments: ["since=%zz", "since=%", "since=1%2"])
    func aMalformedSinceIsRefused(query: String) throws {
        let harness = try EventsHarness()
        let answer = try harness.guest.answer("/1.0/events?" + query, "--max-time", "3")
        #expect(answer.status == 400, "\(answer)")
        let subscriber = try harness.subscribe(query)
        #expect(subscriber.received.status == 400)
    }
}
