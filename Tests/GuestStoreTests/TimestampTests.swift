import Foundation
import GuestJSON
import Testing

@testable import GuestStore  // JournalEntry has no public initializer

@Suite("RFC 3339 timestamps")
struct TimestampTests {
    /// What the journal printed before the hand-written formatter: gmtime and String(format:).
    func reference(_ nanoseconds: Int) -> String {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        let fraction = nanoseconds % 1_000_000_000
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec)
        if fraction > 0 {
            var digits = String(format: "%09d", fraction)
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text + "Z"
    }

    @Test(arguments: [
        0, 1, 999_999_999, 1_000_000_000, 1_700_000_000_123_456_789, 1_700_000_000_100_000_000,
        951_782_400_000_000_000,  // 2000-02-29, a leap day of a century leap year
        4_107_542_400_000_000_000,  // 2100-03-01, after a century that is no leap year
        -1, -1_500_000_000, -86_400_000_000_001, Int.max, Int.min,
    ])
    func matchesGmtime(nanoseconds: Int) {
        #expect(JournalEntry.rfc3339(nanoseconds: nanoseconds) == reference(nanoseconds))
    }

    @Test func matchesGmtimeOverManyDays() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let nanoseconds = Int.random(in: -2_000_000_000_000_000_000...5_000_000_000_000_000_000, using: &generator)
            #expect(JournalEntry.rfc3339(nanoseconds: nanoseconds) == reference(nanoseconds))
        }
    }

    @Test func eventsCarryTheTimestamp() {
        let entry = JournalEntry(
            id: 7, timestampNs: 1_700_000_000_120_000_000, instanceID: 1, instance: "c1", kind: .config,
            name: "user.a", action: nil, oldValue: nil, value: Array("b".utf8))
        var json = JSONWriter()
        entry.writeEvent(into: &json, withID: true)
        #expect(
            String(decoding: json.bytes, as: UTF8.self) == """
                {"type":"config","timestamp":"2023-11-14T22:13:20.12Z","metadata":{"key":"user.a","old_value":"","value":"b"},"id":7}

                """)
    }
}
