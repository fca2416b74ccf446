import GuestRoutes
import NIOCore
import NIOHTTP1
import Testing

@testable import GuestServer

/// Every number a guest sends, at its boundaries (README, "What a guest sees" and "Events and replay"): parsed strictly,
/// never trapping, and never echoed with a control byte.
@Suite("numbers from guests")
struct GuestNumbersTests {
    @Test(
        arguments: [
            (nil, Optional<EventQuery.Since>.none),
            ("now", .now),
            ("0", .id(0)),
            ("0000", .id(0)),
            ("0042", .id(42)),
            ("9223372036854775807", .id(Int.max)),
            ("9223372036854775806", .id(Int.max - 1)),
        ] as [(String?, EventQuery.Since?)])
    func sinceAcceptsDigitsThatFit(text: String?, since: EventQuery.Since?) throws {
        #expect(try EventQuery.since(text) == since)
    }

    @Test(arguments: ["", "9223372036854775808", "99999999999999999999", "-1", "+5", " 5", "5 ", "5\u{0}", "0x10", "1e3", "NOW", "５"])
    func sinceRefusesEverythingElse(text: String) {
        #expect(throws: ParameterError(name: "since", value: text)) { try EventQuery.since(text) }
    }

    @Test(arguments: [
        ("5\u{0}", #"invalid since "5\x00""#),
        ("5\n\u{1b}[2J", #"invalid since "5\x0a\x1b[2J""#),
        ("a\"b\\c", #"invalid since "a\x22b\x5cc""#),
        ("€", #"invalid since "\xe2\x82\xac""#),
        (String(repeating: "9", count: 100), #"invalid since ""# + String(repeating: "9", count: 64) + "…\""),
    ])
    func anErrorShowsTheValueWithoutControlBytes(value: String, message: String) {
        let shown = ParameterError(name: "since", value: value).message
        #expect(shown == message)
        #expect(!shown.utf8.contains { $0 < 0x20 || $0 == 0x7f })
    }

    @Test func keysThatWouldNotFetchThemselvesAreEscapedInTheListing() {
        #expect(GuestAPI.pathSegment("user.a") == "user.a")
        #expect(GuestAPI.pathSegment("user.'\"$(x)[y]{z}") == "user.'\"$(x)[y]{z}")
        #expect(GuestAPI.pathSegment("user.100%") == "user.100%25")
        #expect(GuestAPI.pathSegment("user.a?b#c%2F") == "user.a%3Fb%23c%252F")
    }
}

/// The guest write budget, on a clock the test moves.
@Suite("guest writes")
struct WriteLimiterTests {
    final class Clock: @unchecked Sendable {
        var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    }

    @Test func aBurstThenTenASecond() {
        let clock = Clock()
        let limiter = WriteLimiter(perSecond: 10, burst: 100, clock: { clock.now })

        #expect((0..<100).allSatisfy { _ in limiter.allow(1) })
        #expect(!limiter.allow(1))
        #expect(limiter.allow(2), "another instance has its own budget")
        clock.now = clock.now + .milliseconds(100)
        #expect(limiter.allow(1))
        #expect(!limiter.allow(1))
        clock.now = clock.now + .seconds(60)
        #expect((0..<100).allSatisfy { _ in limiter.allow(1) }, "refilled to the burst, no more")
        #expect(!limiter.allow(1))
    }

    @Test func aClockGoingBackGivesNothing() {
        let clock = Clock()
        let limiter = WriteLimiter(perSecond: 10, burst: 1, clock: { clock.now })
        #expect(limiter.allow(1))
        clock.now = .uptimeNanoseconds(0)
        #expect(!limiter.allow(1))
    }
}
