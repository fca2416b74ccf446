import Foundation
import Testing

/// Watching without a WebSocket (README, "Watching for changes"): an `ETag` on every answer of
/// the watchable endpoints, named by the body alone; `If-None-Match`; `wait_for_change`, which
/// holds a request until a committed change alters its answer; and `?recursive=true`.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct WatchTests {
    static let watchable = ["/1.0", "/1.0/config", "/1.0/config/user.foo", "/1.0/devices", "/1.0/meta-data", "/1.0/config?recursive=true"]
    static let held = "guestapi_held_requests"

    /// The first 16 bytes of the SHA-256 of `text`, as the tag of a body of those bytes.
    static func tag(_ text: String) throws -> String {
        let digest = try Command("/bin/sh", ["-c", "printf %s \"$0\" | sha256sum", text]).run().stdoutText
        return "\"" + digest.prefix(32) + "\""
    }

    /// A request the guest sends in the background; its answer lands in files.
    struct Pending {
        let file: String

        init(_ guest: Guest, _ path: String, _ curlOptions: String...) throws {
            file = guest.host.state.directory + "/pending-\(UUID().uuidString)"
            let curl = shellCommand(
                ["curl", "-s", "-i", "--max-time", "60", "--unix-socket", guest.host.socket] + curlOptions + ["http://guest" + path])
            _ = try guest.process.run("(\(curl) >\(file).out 2>/dev/null; echo $? >\(file).tmp; mv \(file).tmp \(file).done) & true")
        }

        var isDone: Bool { FileManager.default.fileExists(atPath: file + ".done") }

        /// The answer, once it came.
        func answer(timeout: TimeInterval = 30, sourceLocation: SourceLocation = #_sourceLocation) throws -> HTTPResponse {
            let deadline = Date().addingTimeInterval(timeout)
            while !isDone {
                guard Date() < deadline else { throw PendingError.noAnswer(file) }
                usleep(5_000)
            }
            let bytes = Array(FileManager.default.contents(atPath: file + ".out") ?? Data())
            return try #require(HTTPResponse(bytes), "no answer: \(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation)
        }
    }

    enum PendingError: Error { case noAnswer(String) }

    static func heldNow(_ host: GuestHost) throws -> Int { try DaemonMetrics.counter(host.state, held) ?? -1 }

    /// Every watchable answer has a strong tag of its body: the same bytes, the same tag, from
    /// this daemon and the next; a caller that names it gets 304 and no body.
    @Test func everyAnswerIsNamedByItsBodyAcrossARestart() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.foo=hello", "--config", "user.meta-data=region: x")
        try host.cli.succeed("device", "add", "eth0", "nic", "hwaddr=10:66:6a:00:00:01")
        var tags: [String: String] = [:]
        for path in Self.watchable {
            let response = try guest.request(path)
            #expect(response.status == 200, "\(path)")
            let tag = try #require(response.header("ETag"), "\(path) has no ETag")
            #expect(try tag == Self.tag(response.text), "\(path): the tag is the body's digest")
            tags[path] = tag
            let again = try guest.request(path, "-H", "If-None-Match: \(tag)")
            #expect(again.status == 304 && again.body.isEmpty && again.header("ETag") == tag, "\(path)")
            #expect(try guest.request(path, "-H", "If-None-Match: W/\(tag), \"other\"").status == 304, "weak comparison, a list")
            #expect(try guest.request(path, "-H", "If-None-Match: \"other\"").status == 200)
            #expect(try guest.request(path, "-I").header("ETag") == tag, "HEAD")
        }
        #expect(tags["/1.0/config/user.foo"] == "\"2cf24dba5fb0a30e26e83b2ac5b9e29e\"", "sha256(\"hello\")")
        try host.daemon.stop()
        try host.daemon.restart()
        for path in Self.watchable {
            #expect(try guest.request(path).header("ETag") == tags[path], "\(path) after a restart")
        }
        try host.cli.succeed("set", "user.foo", "world")
        #expect(try guest.request("/1.0/config/user.foo").header("ETag") != tags["/1.0/config/user.foo"])
        try host.cli.succeed("set", "user.foo", "hello")
        #expect(try guest.request("/1.0/config/user.foo").header("ETag") == tags["/1.0/config/user.foo"], "the same bytes again")
    }

    /// A held request answers for its own key's change only: not another key's, not another
    /// instance's. Each hold below is answered before the next is checked, so a wake-up that
    /// should not happen would have happened by then.
    @Test func aHeldRequestAnswersForItsOwnChangeOnly() throws {
        let host = try GuestHost()
        let one = try host.guest("c1", "--config", "user.foo=a", "--config", "user.bar=a")
        let two = try host.guest("c2", "--config", "user.foo=a")
        let tag = try Self.tag("a")
        let foo = try Pending(one, "/1.0/config/user.foo?wait_for_change=true&last_etag=\(tag)")
        let bar = try Pending(one, "/1.0/config/user.bar?wait_for_change=true")
        let otherFoo = try Pending(two, "/1.0/config/user.foo?wait_for_change=true&last_etag=\(tag.dropFirst().dropLast())")
        try DaemonMetrics.wait(host.state, Self.held, atLeast: 3)

        try host.cli.succeed("set", "user.bar", "b", "--instance", "c1")
        let barAnswer = try bar.answer()
        let tagB = try Self.tag("b")
        #expect(barAnswer.status == 200 && barAnswer.text == "b" && barAnswer.header("ETag") == tagB)
        try host.cli.succeed("set", "user.foo", "b", "--instance", "c2")
        let otherAnswer = try otherFoo.answer()
        #expect(otherAnswer.text == "b", "an unquoted last_etag is the same tag")
        #expect(!foo.isDone, "c1's user.foo was answered for another key's or another instance's change")
        #expect(try Self.heldNow(host) == 1)

        try host.cli.succeed("set", "user.foo", "c", "--instance", "c1")
        let fooAnswer = try foo.answer()
        let tagC = try Self.tag("c")
        #expect(fooAnswer.status == 200 && fooAnswer.text == "c" && fooAnswer.header("ETag") == tagC)
        #expect(try Self.heldNow(host) == 0)
    }

    /// A change wakes only the holds whose answer it may alter: a guest's PATCH the `/1.0` holds,
    /// another key's change that key's holds; each hold's answer is read once when it begins
    /// and once per change that may alter it (`guestapi_held_answers_read_total`). (Found from
    /// outside: a PATCH had every hold of the instance read its answer again, twice.)
    @Test func aChangeWakesOnlyTheHoldsItMayAlter() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.foo=a", "--config", "user.bar=a")
        let read = "guestapi_held_answers_read_total"
        let foos = try (0..<20).map { _ in try Pending(guest, "/1.0/config/user.foo?wait_for_change=true") }
        let info = try Pending(guest, "/1.0?wait_for_change=true")
        let bar = try Pending(guest, "/1.0/config/user.bar?wait_for_change=true")
        try DaemonMetrics.wait(host.state, Self.held, atLeast: 22)
        let start = try DaemonMetrics.wait(host.state, read, atLeast: 22)
        #expect(start == 22, "one reading each as they began")
        _ = try guest.request("/1.0", "-X", "PATCH", "-d", "{\"state\":\"Ready\"}")
        #expect(try info.answer().text.contains("Ready"))
        try host.cli.succeed("set", "user.bar", "b")
        #expect(try bar.answer().text == "b")
        #expect(try DaemonMetrics.counter(host.state, read) == start + 2, "the PATCH or user.bar woke the user.foo holds")
        #expect(foos.allSatisfy { !$0.isDone })
        try host.cli.succeed("set", "user.foo", "b")
        for foo in foos { #expect(try foo.answer().text == "b") }
    }

    /// A range waits like the whole value, and answers the new value's range; a weak tag is the
    /// same tag; If-None-Match comes before the range.
    @Test func rangesAndWeakTagsWaitToo() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.foo=abc")
        let tag = try Self.tag("abc")
        let ranged = try guest.request("/1.0/config/user.foo", "-r", "0-0", "-H", "If-None-Match: \(tag)")
        #expect(ranged.status == 304)
        let weak = "W/" + tag
        let held = try Pending(guest, "/1.0/config/user.foo?wait_for_change=true&last_etag=\(weak)")
        let rangeHeld = try Pending(guest, "/1.0/config/user.foo?wait_for_change=true&last_etag=\(tag.dropFirst().dropLast())", "-r", "1-1")
        try DaemonMetrics.wait(host.state, Self.held, atLeast: 2)
        try host.cli.succeed("set", "user.foo", "xyz")
        #expect(try held.answer().text == "xyz")
        let part = try rangeHeld.answer()
        #expect(part.status == 206 && part.text == "y")
    }

    /// A tag the caller does not have answers at once; a key not set yet is waited for with the
    /// empty tag, and its removal answers a hold on it (404).
    @Test func aKeyIsWaitedForAndItsRemovalAnswers() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.foo=a")
        let stale = try guest.request("/1.0/config/user.foo?wait_for_change=true&last_etag=%22old%22")
        #expect(stale.status == 200 && stale.text == "a", "answered at once")

        let unset = try Pending(guest, "/1.0/config/user.new?wait_for_change=true&last_etag=")
        try DaemonMetrics.wait(host.state, Self.held, atLeast: 1)
        try host.cli.succeed("set", "user.new", "here")
        #expect(try unset.answer().text == "here")

        let removal = try Pending(guest, "/1.0/config/user.foo?wait_for_change=true")
        try DaemonMetrics.wait(host.state, Self.held, atLeast: 1)
        try host.cli.succeed("unset", "user.foo")
        #expect(try Answer(removal.answer()) == .notFound)
    }

    /// Every watchable endpoint waits for what it shows: devices, meta-data, the key list, the
    /// recursive listing and the state (a guest's own PATCH, which writes no journal entry
    /// for Started).
    @Test func everyEndpointWaitsForWhatItShows() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.foo=a")
        let changes: [(path: String, change: () throws -> Void)] = [
            ("/1.0/devices", { try host.cli.succeed("device", "add", "disk0", "disk", "path=/x") }),
            ("/1.0/meta-data", { try host.cli.succeed("set", "user.meta-data", "zone: 1") }),
            ("/1.0/config", { try host.cli.succeed("set", "user.listed", "1") }),
            ("/1.0/config?recursive=true", { try host.cli.succeed("set", "user.foo", "b") }),
            ("/1.0", { _ = try guest.request("/1.0", "-X", "PATCH", "-d", "{\"state\":\"Ready\"}") }),
            ("/1.0", { _ = try guest.request("/1.0", "-X", "PATCH", "-d", "{\"state\":\"Started\"}") }),
        ]
        for (path, change) in changes {
            let before = try guest.request(path)
            let separator = path.contains("?") ? "&" : "?"
            let pending = try Pending(guest, path + separator + "wait_for_change=true")
            try DaemonMetrics.wait(host.state, Self.held, atLeast: 1)
            try change()
            let after = try pending.answer()
            #expect(after.status == 200 && after.body != before.body, "\(path)")
            #expect(after.header("ETag") != nil && after.header("ETag") != before.header("ETag"), "\(path)")
            #expect(try Self.heldNow(host) == 0)
        }
    }

    /// Unchanged, a hold answers at its timeout with the body and tag the caller has; it also
    /// answers when its instance is deleted, and when the daemon stops.
    @Test func aHoldEndsAtItsTimeoutWithItsInstanceAndWithTheDaemon() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.foo=a")
        let started = Date()
        let timedOut = try guest.request("/1.0/config/user.foo?wait_for_change=true&timeout_sec=1")
        let elapsed = Date().timeIntervalSince(started)
        let tagA = try Self.tag("a")
        #expect(timedOut.status == 200 && timedOut.text == "a" && timedOut.header("ETag") == tagA)
        #expect(elapsed >= 1, "answered after \(elapsed) s")

        let stopping = try Pending(guest, "/1.0/config/user.foo?wait_for_change=true")
        try DaemonMetrics.wait(host.state, Self.held, atLeast: 1)
        try host.daemon.stop()
        let atStop = try stopping.answer()
        #expect(atStop.status == 200 && atStop.text == "a" && atStop.header("Connection") == "close")
        try host.daemon.restart()

        let deleted = try Pending(guest, "/1.0/config/user.foo?wait_for_change=true")
        try DaemonMetrics.wait(host.state, Self.held, atLeast: 1)
        try host.cli.succeed("instance", "delete", "c1")
        #expect(try Answer(deleted.answer()) == .notInContainer)
        #expect(try Self.heldNow(host) == 0)
    }

    /// Held requests are connections: they count against the instance's limit.
    @Test func heldRequestsCountAgainstTheConnectionLimit() throws {
        let host = try GuestHost(daemonArguments: ["--max-conns-per-instance", "2"])
        let guest = try host.guest("c1", "--config", "user.foo=a")
        let holds = try (0..<2).map { _ in try Pending(guest, "/1.0/config/user.foo?wait_for_change=true") }
        try DaemonMetrics.wait(host.state, Self.held, atLeast: 2)
        let refused = try guest.process.curl(host.socket, "/1.0/config/user.foo")
        #expect(HTTPResponse(refused.stdout)?.status != 200, "a third connection was served: \(refused.text)")
        try host.cli.succeed("set", "user.foo", "b")
        for hold in holds { #expect(try hold.answer().text == "b") }
    }

    /// Bad parameters are one-line 400s; parameters the daemon does not know are ignored.
    @Test func badParametersAreRefusedAndUnknownOnesIgnored() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.foo=a")
        let refused = [
            ("wait_for_change=maybe", "invalid wait_for_change \"maybe\""),
            ("wait_for_change=true&timeout_sec=0", "invalid timeout_sec \"0\""),
            ("wait_for_change=true&timeout_sec=3601", "invalid timeout_sec \"3601\""),
            ("wait_for_change=true&timeout_sec=9223372036854775808", "invalid timeout_sec \"9223372036854775808\""),
            ("wait_for_change=true&timeout_sec=05", "invalid timeout_sec \"05\""),
            ("wait_for_change=true&timeout_sec=%2B5", "invalid timeout_sec \"+5\""),
            ("wait_for_change=true&last_etag=%01", "invalid last_etag \"\\x01\""),
            ("recursive=yes", "invalid recursive \"yes\""),
        ]
        for (query, message) in refused {
            #expect(try guest.answer("/1.0/config?" + query) == .text(400, message), "\(query)")
        }
        #expect(try guest.answer("/1.0/config/user.foo?colour=blue&wait_for_change=false") == .raw("a"))
        #expect(try guest.answer("/1.0/events?wait_for_change=maybe", "--max-time", "1").status == 200, "not a watchable endpoint")
        #expect(try guest.answer("/1.0/devices?recursive=yes").status == 200, "recursive means nothing there")
    }

    /// `recursive=true`: every key the guest may read with its value; a value that is not
    /// UTF-8 in base64, a large one named by its size and tag.
    @Test func recursiveConfigListsValues() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.foo=a \"quoted\"\nline", "--config", "cloud-init.user-data=#cloud-config")
        try host.cli.succeed("set", "security.guestapi.images", "false")
        let binary = host.state.directory + "/binary"
        try Data([0, 0xFF, 0x41]).write(to: URL(fileURLWithPath: binary))
        try host.cli.succeed("set", "user.bin", "--file", binary)
        let large = host.state.directory + "/large"
        try Data(repeating: 0x61, count: 100_000).write(to: URL(fileURLWithPath: large))
        try host.cli.succeed("set", "user.large", "--file", large)
        let largeTag = try #require(try guest.request("/1.0/config/user.large").header("ETag"))
        let escapedTag = largeTag.replacingOccurrences(of: "\"", with: "\\\"")
        #expect(
            try guest.answer("/1.0/config?recursive=true")
                == .json(
                    ##"{"cloud-init.user-data":"#cloud-config","user.bin":{"base64":"AP9B"},"##
                        + ##""user.foo":"a \"quoted\"\nline","user.large":{"size":100000,"etag":"\##(escapedTag)"}}"##))
        #expect(try guest.answer("/1.0/config?recursive=false") == (try guest.answer("/1.0/config")))

        // Values whose JSON would be large are named once 64 KiB of JSON is carried, so the
        // answer stays small (found from outside: 1.4 MB of escapes, read again per hold).
        let controls = host.state.directory + "/controls"
        try Data(repeating: 0x01, count: 60_000).write(to: URL(fileURLWithPath: controls))
        for key in ["user.c1", "user.c2", "user.c3", "user.c4"] { try host.cli.succeed("set", key, "--file", controls) }
        let listing = try guest.request("/1.0/config?recursive=true")
        #expect(listing.status == 200 && listing.body.count < 70_000, "\(listing.body.count) bytes")
        #expect(listing.text.contains(#""user.c1":{"size":60000,"etag":"#), "60,000 control bytes are 360,000 of JSON")
    }

    /// The README's shell loop, run as written but for the socket's path: it prints each new
    /// value of user.foo.
    @Test func theREADMELoopReactsToAKey() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md").standardized.path
        let readme = try String(contentsOfFile: path, encoding: .utf8)
        let start = try #require(readme.range(of: "<!-- watch-loop -->\n```sh\n"))
        let end = try #require(readme.range(of: "```", range: start.upperBound..<readme.endIndex))
        let loop = String(readme[start.upperBound..<end.lowerBound])
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.foo=first")
        let folder = host.state.directory + "/loop"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let script = folder + "/loop.sh"
        try loop.replacingOccurrences(of: "/dev/incus/sock", with: host.socket).write(toFile: script, atomically: true, encoding: .utf8)
        _ = try guest.process.run("(cd \(folder) && exec /bin/sh \(script) >\(folder)/printed 2>&1) & echo $! >\(folder)/pid")
        let printed = { (try? String(contentsOfFile: folder + "/printed", encoding: .utf8)) ?? "" }
        func waitFor(_ line: String) throws {
            let deadline = Date().addingTimeInterval(20)
            while !printed().contains(line) {
                guard Date() < deadline else { throw PendingError.noAnswer("\(line) in \(printed())") }
                usleep(10_000)
            }
        }
        defer { _ = try? guest.process.run("kill $(cat \(folder)/pid)") }
        try waitFor("user.foo is now: first\n")
        try DaemonMetrics.wait(host.state, Self.held, atLeast: 1)
        try host.cli.succeed("set", "user.foo", "second")
        try waitFor("user.foo is now: second\n")
        try DaemonMetrics.wait(host.state, Self.held, atLeast: 1)
        try host.cli.succeed("set", "user.bar", "unrelated")
        try host.cli.succeed("set", "user.foo", "third")
        try waitFor("user.foo is now: third\n")
        #expect(printed() == "user.foo is now: first\nuser.foo is now: second\nuser.foo is now: third\n")
    }
}
