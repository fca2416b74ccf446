import GuestHTTP
import NIOCore
import NIOHTTP1
import Testing

@testable import GuestServer

@Suite("answer cache")
struct AnswerCacheTests {
    static func request(_ method: HTTPMethod = .GET, _ target: String = "/1.0/config", range: String? = nil) -> GuestRequest {
        var request = GuestRequest(method: method, target: target, minorVersion: 1)
        request.range = range
        return request
    }

    /// The cached body, so that a hit shows which answer it was.
    static func body(_ kept: AnswerCache.Kept?) -> [UInt8]? {
        guard case .bytes(let bytes)? = kept?.response.body else { return nil }
        return bytes
    }

    @Test func hitOnlyForTheSameRevisionInstanceAndTarget() {
        let cache = AnswerCache()
        cache.keep(.raw([1]), route: .config, for: Self.request(), instanceID: 1, revision: 5)

        #expect(Self.body(cache.answer(to: Self.request(), instanceID: 1, revision: 5)) == [1])
        #expect(cache.answer(to: Self.request(), instanceID: 1, revision: 6) == nil)
        #expect(cache.answer(to: Self.request(), instanceID: 1, revision: 4) == nil)
        #expect(cache.answer(to: Self.request(), instanceID: 2, revision: 5) == nil)
        #expect(cache.answer(to: Self.request(.GET, "/1.0/config?recursion=1"), instanceID: 1, revision: 5) == nil)
        #expect(cache.answer(to: Self.request(.GET, "/1.0/config/"), instanceID: 1, revision: 5) == nil)
    }

    @Test func instancesKeepTheirOwnAnswers() {
        let cache = AnswerCache()
        cache.keep(.raw([1]), route: .config, for: Self.request(), instanceID: 1, revision: 5)
        cache.keep(.raw([2]), route: .config, for: Self.request(), instanceID: 2, revision: 5)

        #expect(Self.body(cache.answer(to: Self.request(), instanceID: 1, revision: 5)) == [1])
        #expect(Self.body(cache.answer(to: Self.request(), instanceID: 2, revision: 5)) == [2])
    }

    @Test func getAndHeadShareAnswers() {
        let cache = AnswerCache()
        cache.keep(.raw([1]), route: .config, for: Self.request(.GET), instanceID: 1, revision: 5)
        cache.keep(.raw([2]), route: .config, for: Self.request(.HEAD, "/1.0"), instanceID: 1, revision: 5)

        #expect(Self.body(cache.answer(to: Self.request(.HEAD), instanceID: 1, revision: 5)) == [1])
        #expect(Self.body(cache.answer(to: Self.request(.GET, "/1.0"), instanceID: 1, revision: 5)) == [2])
    }

    @Test func notForRangesOtherMethodsOrUpgrades() {
        let cache = AnswerCache()
        // A range answer is part of a body: it must not answer a whole GET, nor a whole one a range.
        cache.keep(.raw([1]), route: .config, for: Self.request(range: "bytes=0-0"), instanceID: 1, revision: 5)
        #expect(cache.answer(to: Self.request(), instanceID: 1, revision: 5) == nil)

        cache.keep(.raw([2]), route: .config, for: Self.request(), instanceID: 1, revision: 5)
        #expect(cache.answer(to: Self.request(range: "bytes=0-0"), instanceID: 1, revision: 5) == nil)
        #expect(cache.answer(to: Self.request(.PATCH), instanceID: 1, revision: 5) == nil)
        var upgrade = Self.request()
        upgrade.webSocket = .init(key: "k", version: "13")
        #expect(cache.answer(to: upgrade, instanceID: 1, revision: 5) == nil)

        cache.keep(.raw([3]), route: .config, for: Self.request(.PATCH, "/1.0"), instanceID: 1, revision: 5)
        #expect(cache.answer(to: Self.request(.GET, "/1.0"), instanceID: 1, revision: 5) == nil)
    }

    @Test func onlyBodiesOfBytesAreKept() {
        let cache = AnswerCache()
        cache.keep(
            GuestResponse(status: .ok, contentType: .raw, body: .file(path: "/dev/null", offset: 0, length: 0)), route: .config,
            for: Self.request(), instanceID: 1, revision: 5)
        #expect(cache.answer(to: Self.request(), instanceID: 1, revision: 5) == nil)
    }

    @Test func aNewRevisionEmptiesIt() {
        let cache = AnswerCache()
        cache.keep(.raw([1]), route: .config, for: Self.request(.GET, "/a"), instanceID: 1, revision: 5)
        cache.keep(.raw([2]), route: .config, for: Self.request(.GET, "/b"), instanceID: 1, revision: 6)

        #expect(Self.body(cache.answer(to: Self.request(.GET, "/b"), instanceID: 1, revision: 6)) == [2])
        #expect(cache.answer(to: Self.request(.GET, "/a"), instanceID: 1, revision: 6) == nil)
        #expect(cache.answer(to: Self.request(.GET, "/a"), instanceID: 1, revision: 5) == nil)
    }

    @Test func itHoldsAtMostItsCapacity() {
        let cache = AnswerCache(capacity: 2)
        cache.keep(.raw([1]), route: .config, for: Self.request(.GET, "/a"), instanceID: 1, revision: 5)
        cache.keep(.raw([2]), route: .config, for: Self.request(.GET, "/b"), instanceID: 1, revision: 5)
        #expect(Self.body(cache.answer(to: Self.request(.GET, "/a"), instanceID: 1, revision: 5)) == [1])
        #expect(Self.body(cache.answer(to: Self.request(.GET, "/b"), instanceID: 1, revision: 5)) == [2])

        cache.keep(.raw([3]), route: .config, for: Self.request(.GET, "/c"), instanceID: 1, revision: 5)
        let kept = ["/a", "/b", "/c"].filter { cache.answer(to: Self.request(.GET, $0), instanceID: 1, revision: 5) != nil }
        #expect(kept.count <= 2)
        #expect(Self.body(cache.answer(to: Self.request(.GET, "/c"), instanceID: 1, revision: 5)) == [3])
    }

    @Test func eachFormOfRequestGetsItsOwnBytes() {
        let cache = AnswerCache()
        cache.keep(.raw([1]), route: .config, for: Self.request(), instanceID: 1, revision: 5)
        let kept = cache.answer(to: Self.request(), instanceID: 1, revision: 5)
        var made: [String] = []
        for minorVersion in [0, 1] {
            for withBody in [false, true] {
                for keepAlive in [false, true] {
                    let name = "\(minorVersion) \(withBody) \(keepAlive)"
                    for _ in 0..<2 {
                        let bytes = kept?.bytes(minorVersion: minorVersion, withBody: withBody, keepAlive: keepAlive) {
                            made.append(name)
                            return ByteBuffer(string: name)
                        }
                        #expect(bytes.map { String(buffer: $0) } == name)
                    }
                }
            }
        }
        // Made once each, never taken for another form.
        #expect(made.count == 8 && Set(made).count == 8)
    }

    @Test func aLargeAnswerIsNotKept() {
        let cache = AnswerCache()
        cache.keep(
            .raw(Array(repeating: 1, count: AnswerCache.largestBody + 1)), route: .config, for: Self.request(.GET, "/a"),
            instanceID: 1, revision: 5)
        cache.keep(
            .raw(Array(repeating: 2, count: AnswerCache.largestBody)), route: .config, for: Self.request(.GET, "/b"),
            instanceID: 1, revision: 5)

        #expect(cache.answer(to: Self.request(.GET, "/a"), instanceID: 1, revision: 5) == nil)
        #expect(Self.body(cache.answer(to: Self.request(.GET, "/b"), instanceID: 1, revision: 5))?.count == AnswerCache.largestBody)
    }

    /// One value asked for under many query strings: the bytes kept stay within the budget.
    @Test func keptBytesStayWithinTheBudget() {
        let budget = 1 << 20
        let cache = AnswerCache(budget: budget)
        let body = [UInt8](repeating: 7, count: 60 * 1024)
        for query in 0..<100 {
            cache.keep(.raw(body), route: .config, for: Self.request(.GET, "/big?\(query)"), instanceID: 1, revision: 5)
        }
        let kept = (0..<100).filter { cache.answer(to: Self.request(.GET, "/big?\($0)"), instanceID: 1, revision: 5) != nil }

        #expect(kept.count * AnswerCache.cost(bodyBytes: body.count) <= budget, "\(kept.count) kept")
        #expect(kept.contains(99), "the newest is kept")
    }
}
