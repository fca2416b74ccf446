import Foundation
import Testing

/// README, "What a guest sees": `/`, `/1.0`, methods, unknown paths, HEAD and framing, each answer
/// exact (status, Content-Type, Content-Length, body), from a real guest process.
@Suite(.timeLimit(.minutes(3))) struct GuestAPITests {
    static let hostname: String = {
        var name = [UInt8](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        return String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
    }()

    static func info(state: String, type: String = "container") -> Answer {
        .json(#"{"state":"\#(state)","api_version":"1.0","instance_type":"\#(type)","location":"\#(hostname)"}"#)
    }

    /// `PATCH /1.0` with `body`.
    static func patch(_ guest: Guest, _ body: String) throws -> Answer {
        try guest.answer("/1.0", "-X", "PATCH", "--data-binary", body)
    }

    /// How many times instance c1 was journaled Ready.
    static func readyEntries(_ host: GuestHost) throws -> Int {
        try host.cli.journal("--type", "lifecycle").filter { $0.action == "instance-ready" && $0.instance == "c1" }.count
    }

    @Test func rootListsTheAPIVersion() throws {
        let guest = try GuestHost().guest("c1")
        #expect(try guest.answer("/") == .json(#"["/1.0"]"#))
    }

    @Test func infoOfAContainer() throws {
        let guest = try GuestHost().guest("c1")
        #expect(try guest.answer("/1.0") == Self.info(state: "Started"))
    }

    @Test func infoOfAVirtualMachine() throws {
        let guest = try GuestHost().guest("vm1", "--type", "virtual-machine")
        #expect(try guest.answer("/1.0") == Self.info(state: "Started", type: "virtual-machine"))
    }

    /// A change to Ready is journaled; a repeated Ready is not (a guest cannot flood the journal).
    @Test func patchReadyIsRecordedAndJournaledOnChangeStartedClearsIt() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1")

        for (body, state, journaled) in [("Ready", "Ready", 1), ("Ready", "Ready", 1), ("Started", "Started", 1), ("Ready", "Ready", 2)] {
            let answer = try Self.patch(guest, #"{"state":"\#(body)"}"#)
            #expect(answer.status == 200 && answer.body.isEmpty && answer.contentLength == "0", "PATCH \(body): \(answer)")
            #expect(try guest.answer("/1.0") == Self.info(state: state), "after PATCH \(body)")
            #expect(try Self.readyEntries(host) == journaled, "after PATCH \(body)")
        }
    }

    @Test(arguments: ["ready", "READY", "Stopped", "Ready ", ""])
    func patchWithAnotherStateIsInvalid(state: String) throws {
        let host = try GuestHost()
        let guest = try host.guest("c1")

        #expect(try Self.patch(guest, #"{"state":"\#(state)"}"#) == .text(400, #"Invalid state "\#(state)""#))
        #expect(try guest.answer("/1.0") == Self.info(state: "Started"))
        #expect(try Self.readyEntries(host) == 0)
    }

    @Test(arguments: ["not json", #"{"state":"#, #"["Ready"]"#, #"{"state":1}"#])
    func patchWithAnUndecodableBodyIsBadRequest(body: String) throws {
        let host = try GuestHost()
        let guest = try host.guest("c1")

        let answer = try Self.patch(guest, body)

        #expect(answer.status == 400)
        #expect(answer.contentType == "text/plain; charset=utf-8")
        #expect(answer.text.hasSuffix("\n") && answer.contentLength == String(answer.body.count))
        #expect(try guest.answer("/1.0") == Self.info(state: "Started"))
    }

    @Test(arguments: ["DELETE", "POST", "PUT", "OPTIONS"])
    func otherMethodsOnInfoAreNotAllowed(method: String) throws {
        let guest = try GuestHost().guest("c1")
        #expect(try guest.answer("/1.0", "-X", method) == .methodNotAllowed(method))
    }

    @Test(arguments: ["POST", "PUT", "DELETE", "PATCH"])
    func getOnlyEndpointsRefuseOtherMethods(method: String) throws {
        let guest = try GuestHost().guest("c1", "--config", "user.foo=1", "--config", "security.guestapi.images=true")
        let endpoints = [
            "/", "/1.0/config", "/1.0/config/user.foo", "/1.0/devices", "/1.0/meta-data", "/1.0/events",
            "/1.0/images/\(String(repeating: "0", count: 64))/export",
        ]
        for path in endpoints {
            #expect(try guest.answer(path, "-X", method) == .methodNotAllowed(method), "\(method) \(path)")
        }
    }

    @Test(arguments: [
        "/1.0/", "/1.0/config/", "/2.0", "/1.0/nope", "/1.0/config/user.foo/x", "/1.0/images/x", "/1.0/images//export", "/1.0/meta-data/",
    ])
    func unknownPathsAreNotFound(path: String) throws {
        let guest = try GuestHost().guest("c1", "--config", "user.foo=1")
        #expect(try guest.answer(path) == .pageNotFound)
        #expect(try guest.answer(path, "-X", "PATCH") == .pageNotFound)
    }

    @Test func headAnswersTheGETStatusAndHeadersWithoutABody() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.foo=bar", "--config", "security.guestapi.images=true")
        try host.cli.succeed("device", "add", "eth0", "nic")
        let image = try GuestAPIImageTests.importImage(host, isPublic: true)
        let paths = [
            "/", "/1.0", "/1.0/config", "/1.0/config/user.foo", "/1.0/config/user.missing",
            "/1.0/config/security.guestapi", "/1.0/devices", "/1.0/meta-data", "/1.0/images/\(image.fingerprint)/export",
            "/1.0/images/\(String(repeating: "0", count: 64))/export", "/1.0/nope",
        ]
        // Each request on a connection of its own, read until the daemon closes it: every byte sent counts.
        let replies = try guest.session(
            paths.flatMap { path in
                ["GET", "HEAD"].map { SessionStep.raw("\($0) \(path) HTTP/1.1\r\nHost: guest\r\nConnection: close\r\n\r\n") }
            })

        try #require(replies.count == 2 * paths.count)
        for (index, path) in paths.enumerated() {
            let get = try #require(replies[2 * index].response, "GET \(path)")
            let head = try #require(replies[2 * index + 1].response, "HEAD \(path)")
            #expect(head.status == get.status, "HEAD \(path)")
            #expect(head.headers.map { "\($0.name): \($0.value)" } == get.headers.map { "\($0.name): \($0.value)" }, "HEAD \(path)")
            #expect(head.body.isEmpty, "HEAD \(path) sent \(head.body.count) body bytes")
            #expect(!get.body.isEmpty, "GET \(path)")
        }
    }

    @Test func http10AndAnyHostHeaderAreAccepted() throws {
        let guest = try GuestHost().guest("c1")

        let replies = try guest.session([.raw("GET /1.0 HTTP/1.0\r\n\r\n")])

        #expect(replies.first?.answer == Self.info(state: "Started"))
        #expect(try guest.answer("/1.0", "-H", "Host: somewhere.else:1234") == Self.info(state: "Started"))
    }

    @Test func adminChangesShowOnTheNextRequestOfAnOpenConnection() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.foo=1")

        let replies = try guest.session([
            .get("/1.0/config/user.foo"),
            .run(host.adminCommand("set", "user.foo", "2")),
            .get("/1.0/config/user.foo"),
            .run(host.adminCommand("unset", "user.foo")),
            .get("/1.0/config/user.foo"),
            .run(host.adminCommand("set", "security.guestapi", "false")),
            .get("/1.0/config"),
        ])

        #expect(replies.compactMap(\.answer) == [.raw("1"), .raw("2"), .notFound, .notAuthorized])
        #expect(replies.compactMap(\.exit) == [0, 0, 0])
        #expect(replies.compactMap(\.connection) == [1, 1, 1, 1], "every request on the first connection")
        #expect(try guest.answer("/1.0/config/user.foo") == .notAuthorized)
    }
}
