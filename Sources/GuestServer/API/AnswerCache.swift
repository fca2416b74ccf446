import GuestHTTP
import GuestRoutes
import GuestStore
import NIOCore
import NIOHTTP1

/// One event loop's answers to GET and HEAD, kept while the database stays as it was
/// (`RevisionMemo`): an answer is a function of the database, the instance and the request,
/// so one computed in a snapshot of some revision is exactly what any later snapshot of that
/// revision would compute, and "answers from the database as committed now" holds.
///
/// Only immediate answers with a body of bytes are kept (files and streams are not), within a
/// budget of bytes: a guest asking for one large answer under thousands of query strings would
/// otherwise make the daemon hold thousands of copies of it. A large answer (a listing of
/// thousands of keys; a value's is at most 64 KiB, larger ones are streamed) is kept too: the
/// connections that ask for it in a revision then share one copy of its bytes, however many
/// never read them. Not Sendable: each loop has its own and uses it only on the loop.
final class AnswerCache {
    /// The largest body kept; a larger one is made for each request.
    static let largestBody = 16 << 20

    private struct Key: Hashable {
        var instanceID: Int
        var target: String
    }

    /// A kept answer: its endpoint (for the metrics), and the bytes written for it, made once
    /// for each form of request that asked (see `bytes`).
    final class Kept {
        let response: GuestResponse
        let route: Route
        private var written: [ByteBuffer?] = Array(repeating: nil, count: 8)

        init(response: GuestResponse, route: Route) {
            self.response = response
            self.route = route
        }

        /// The whole answer as written, head and body, for one form of request; `encode`
        /// makes it the first time. A head depends on the HTTP version, on whether the
        /// connection stays open and, for HEAD, on the body's absence: nothing else.
        func bytes(minorVersion: Int, withBody: Bool, keepAlive: Bool, encode: () -> ByteBuffer) -> ByteBuffer {
            let form = (minorVersion == 1 ? 1 : 0) | (withBody ? 2 : 0) | (keepAlive ? 4 : 0)
            if let known = written[form] { return known }
            let bytes = encode()
            written[form] = bytes
            return bytes
        }
    }

    private var answers: RevisionMemo<Key, Kept>
    private let capacity: Int
    /// Bytes the kept answers may hold, every form's bytes counted in advance (see `cost`),
    /// and what those of this revision hold.
    private let budget: Int
    private var spent = (revision: -1, bytes: 0)

    init(capacity: Int = 4096, budget: Int = 8 << 20) {
        self.capacity = capacity
        self.budget = budget
        answers = RevisionMemo(capacity: capacity)
    }

    /// What keeping an answer of `bodyBytes` may come to: its body, and the head and body of
    /// each of the four forms that have one, the head-only forms besides.
    static func cost(bodyBytes: Int) -> Int { (bodyBytes + 512) * 5 + 4 * 512 }

    /// The answer for `request` as computed in this revision, if it was.
    func answer(to request: GuestRequest, instanceID: Int, revision: Int) -> Kept? {
        guard Self.isCacheable(request) else { return nil }
        return answers.value(for: Key(instanceID: instanceID, target: request.target), revision: revision)
    }

    /// Keeps the answer to `request` from `route`, if it may be (see `isCacheable`).
    @discardableResult
    func keep(_ response: GuestResponse, route: Route, for request: GuestRequest, instanceID: Int, revision: Int) -> Kept? {
        guard Self.isCacheable(request), route.isRepeatable, case .bytes(let body) = response.body, body.count <= Self.largestBody
        else { return nil }
        let cost = Self.cost(bodyBytes: body.count)
        if spent.revision != revision { spent = (revision, 0) }
        // Over budget: start afresh, as the memo does when it holds its count.
        if spent.bytes + cost > budget {
            answers = RevisionMemo(capacity: capacity)
            spent.bytes = 0
        }
        spent.bytes += cost
        let kept = Kept(response: response, route: route)
        answers.keep(kept, for: Key(instanceID: instanceID, target: request.target), revision: revision)
        return kept
    }

    /// GET and HEAD have the same answer but for the body, which HEAD drops when it is sent.
    /// A conditional request's answer depends on its field, and one that may wait for a change
    /// (`wait_for_change`) is not answered at once: neither is kept. (A held request's answer
    /// is kept under the target without its waiting: `GuestConnectionHandler+Holding`.)
    private static func isCacheable(_ request: GuestRequest) -> Bool {
        (request.method == .GET || request.method == .HEAD) && request.range == nil && request.webSocket == nil
            && request.ifNoneMatch == nil && !mayWait(request.target)
    }

    private static func mayWait(_ target: String) -> Bool {
        guard target.utf8.contains(UInt8(ascii: "?")) else { return false }
        return target.contains("wait_for_change")
    }
}
