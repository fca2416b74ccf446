import GuestStore
import Testing

/// `journal prune --older-than`: whole numbers and a unit, checked, never trapping.
@Suite("ages")
struct AgeTests {
    @Test(arguments: [
        ("0s", 0), ("90s", 90_000_000_000), ("30m", 1_800_000_000_000), ("24h", 86_400_000_000_000),
        ("007d", 604_800_000_000_000), ("106751d", 106_751 * 86_400 * 1_000_000_000),
        ("9223372036s", 9_223_372_036_000_000_000),
    ])
    func valid(text: String, nanoseconds: Int) {
        #expect(Age.nanoseconds(text) == nanoseconds)
    }

    @Test(arguments: ["", "s", "5", "5w", "-5s", "+5s", " 5s", "5 s", "106752d", "9223372037s", "99999999999d",
                      "9223372036854775807s", "99999999999999999999s", "1.5h", "５s"])
    func invalid(text: String) {
        #expect(Age.nanoseconds(text) == nil)
    }
}
