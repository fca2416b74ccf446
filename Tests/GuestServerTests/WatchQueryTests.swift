import GuestHTTP
import GuestRoutes
import Testing

/// The watch parameters (README, "Watching for changes") and `If-None-Match`, read strictly.
@Suite("watch parameters")
struct WatchQueryTests {
    @Test func plainRequestsDoNotWait() throws {
        #expect(try WatchQuery(target: "/1.0/config") == WatchQuery(target: "/1.0/config?colour=blue"))
        #expect(try WatchQuery(target: "/1.0/config?wait_for_change=false").wait == nil)
        #expect(try WatchQuery(target: "/1.0/config?wait_for_change=").wait == nil)
        #expect(try WatchQuery(target: "/1.0/config?recursive=1", listing: true).recursive)
        #expect(try WatchQuery(target: "/1.0/devices?recursive=junk").recursive == false, "ignored where it means nothing")
    }

    @Test func waitingTakesATagAndATimeout() throws {
        let plain = try #require(try WatchQuery(target: "/x?wait_for_change=true").wait)
        #expect(plain == .init(lastTag: nil, timeout: 60))
        let tagged = try WatchQuery(target: "/x?timeout_sec=3600&wait_for_change=TRUE&last_etag=abc").wait
        #expect(tagged == .init(lastTag: "\"abc\"", timeout: 3600), "quotes are added")
        #expect(try WatchQuery(target: "/x?wait_for_change=1&last_etag=%22abc%22").wait?.lastTag == "\"abc\"")
        #expect(try WatchQuery(target: "/x?wait_for_change=1&last_etag=").wait?.lastTag == "", "the tag of a key not set")
        #expect(try WatchQuery(target: "/x?wait_for_change=1&last_etag=W/%22abc%22").wait?.lastTag == "\"abc\"", "compared weakly")
        #expect(try WatchQuery(target: "/x?wait_for_change=1&timeout_sec=1&timeout_sec=junk").wait?.timeout == 1, "the first wins")
    }

    @Test(arguments: [
        ("wait_for_change=yes", "invalid wait_for_change \"yes\""),
        ("wait_for_change=1&timeout_sec=0", "invalid timeout_sec \"0\""),
        ("wait_for_change=1&timeout_sec=3601", "invalid timeout_sec \"3601\""),
        ("wait_for_change=1&timeout_sec=-1", "invalid timeout_sec \"-1\""),
        ("wait_for_change=1&timeout_sec=+5", "invalid timeout_sec \"+5\""),
        ("wait_for_change=1&timeout_sec=060", "invalid timeout_sec \"060\""),
        ("wait_for_change=1&timeout_sec=99999999999999999999", "invalid timeout_sec \"99999999999999999999\""),
        ("wait_for_change=1&last_etag=%0a", "invalid last_etag \"\\x0a\""),
        ("wait_for_change=1&last_etag=%zz", "invalid last_etag \"%zz\""),
        (
            "wait_for_change=1&last_etag=" + String(repeating: "a", count: 129),
            "invalid last_etag \"" + String(repeating: "a", count: 64) + "…\""
        ),
        ("recursive=2", "invalid recursive \"2\""),
    ])
    func badValuesAreRefused(query: String, message: String) {
        #expect(throws: ParameterError.self) { try WatchQuery(target: "/x?" + query, listing: true) }
        do {
            _ = try WatchQuery(target: "/x?" + query, listing: true)
        } catch {
            #expect(error.message == message)
        }
    }

    @Test func ifNoneMatchComparesWeakly() {
        var request = GuestRequest(method: .GET, target: "/1.0", minorVersion: 1)
        #expect(!request.noneMatchNames("\"a\""))
        for (field, matches) in [
            ("\"a\"", true), ("W/\"a\"", true), ("\"b\", \"a\"", true), (" \"b\" ,\t\"a\" ", true), ("*", true),
            ("\"b\"", false), ("a", false), ("\"a", false), ("", false),
        ] {
            request.ifNoneMatch = field
            #expect(request.noneMatchNames("\"a\"") == matches, "\(field)")
        }
    }
}
