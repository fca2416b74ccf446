import GuestHTTP
import Testing

/// A `Range` header against a file's size (README, "What a guest sees"): one range or the
/// whole file, never a trap on a number too large.
@Suite("byte ranges")
struct ByteRangeTests {
    @Test(arguments: [
        ("bytes=0-0", ByteRange.part(start: 0, end: 0)),
        ("bytes=5-", .part(start: 5, end: 9)),
        ("bytes=-3", .part(start: 7, end: 9)),
        ("bytes=-30", .part(start: 0, end: 9)),
        ("bytes=-9223372036854775807", .part(start: 0, end: 9)),
        ("bytes=8-9223372036854775807", .part(start: 8, end: 9)),
        ("bytes= 2 - 4 ", .part(start: 2, end: 4)),
        ("bytes=0-1,4-5", .whole),
        ("bytes=0-1, 8-", .whole),
        ("bytes=10-", .unsatisfiable),
        ("bytes=5-4", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=+1-2", .unsatisfiable),
        ("bytes=9223372036854775808-", .unsatisfiable),
        ("bytes=0-99999999999999999999", .part(start: 0, end: 9)),
        ("bytes=-99999999999999999999", .part(start: 0, end: 9)),
        ("bytes=99999999999999999999-99999999999999999999", .unsatisfiable),
        ("bytes=20-30,0-1", .whole),
        ("bytes=20-30,-0", .unsatisfiable),
        ("bytes=20-30,x", .unsatisfiable),
        ("bytes=0-1,x", .unsatisfiable),
        ("bytes=", .unsatisfiable),
        ("items=0-1", .unsatisfiable),
    ])
    func rangesOfATenByteFile(header: String, range: ByteRange) {
        #expect(ByteRange(header, size: 10) == range)
    }

    @Test func anEmptyFileHasNoRange() {
        #expect(ByteRange("bytes=0-0", size: 0) == .unsatisfiable)
    }
}
