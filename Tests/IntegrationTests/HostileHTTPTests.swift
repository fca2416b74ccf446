import Foundation
import Testing

/// Hostile guests, malformed HTTP (README, "Limits a guest cannot pass"): the corpus of tools/hardening/
/// (http_corpus.py, stored in corpus/http-malformed.jsonl) sent by a registered instance over
/// raw Unix sockets, one connection per case. Each case gets a 4xx (malformed ones then a
/// close) or a clean close, never another instance's data, and the daemon keeps serving.
@Suite(.timeLimit(.minutes(3))) struct HostileHTTPTests {
    /// One case as send_corpus.py judged it.
    struct CaseResult: Decodable {
        var name: String
        var statuses: [Int]
        var closed: Bool
        var leaked: [String]
        var ok: Bool
        var why: String
    }

    static let otherSecret = "OTHER-SECRET"

    @Test func storedCorpusIsWhatTheGeneratorMakes() throws {
        let result = try Command("/usr/bin/python3", [HardeningTools.path("http_corpus.py"), "--check"]).run()
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func everyMalformedRequestGetsA4xxOrACloseAndNothingMore() throws {
        let host = try GuestHost()
        let me = try host.guest("me", "--config", "user.secret=mine-4d1c", "--config", "security.guestapi.images=true")
        _ = try host.guest("other", "--config", "user.secret=\(Self.otherSecret)")

        let (results, _) = try HardeningTools.run(
            CaseResult.self, "send_corpus.py",
            [host.socket, HardeningTools.path("corpus/http-malformed.jsonl"), "--forbid", Self.otherSecret],
            in: me.process, timeout: 120)

        #expect(results.count >= 200)
        for result in results where !result.ok {
            Issue.record("\(result.name): \(result.why) (answers \(result.statuses), \(result.closed ? "closed" : "left open"))")
        }
        #expect(results.allSatisfy { $0.leaked.isEmpty })
        let answered4xx = results.filter { $0.statuses.contains { (400..<500).contains($0) } }.count
        let closes = results.filter(\.closed).count
        let silentCloses = results.filter { $0.closed && $0.statuses.isEmpty }.count
        print(
            "malformed HTTP corpus: \(results.count) cases, \(answered4xx) answered 4xx, \(closes) closed by the daemon"
                + " (\(silentCloses) without an answer), \(results.filter(\.ok).count) passed")

        // The daemon is still there, and serves a normal client exactly as before.
        #expect(host.daemon.process.isRunning)
        #expect(try me.answer("/1.0/config/user.secret") == .raw("mine-4d1c"))
        #expect(try me.answer("/1.0/config") == .json(#"["/1.0/config/user.secret"]"#))
        let replies = try me.session([
            .get("/1.0"), .get("/1.0/config/user.secret"), .request("PATCH", "/1.0", body: #"{"state":"Ready"}"#),
        ])
        #expect(replies.map { $0.answer?.status } == [200, 200, 200])
        #expect(replies.map(\.connection) == [1, 1, 1], "keep-alive still holds")
    }
}
