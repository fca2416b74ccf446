import NIOHTTP1

/// One event loop's answers to GET and HEAD, kept while the database stays as it was: an
/// answer is a function of the database, the instance and the request, so one computed in
/// a snapshot of some revision (`Store.revision`) is exactly what any later snapshot of
/// that revision would compute. A commit anywhere moves the revision and empties the cache,
/// so "answers from the database as committed now" holds.
///
/// Only immediate answers with a body of bytes are kept (files and streams are not), at
/// most `capacity`. Not Sendable: each loop has its own and uses it only on the loop.
final class AnswerCache {
    private struct Key: Hashable {
        var instanceID: Int
        var target: String
    }

    let capacity: Int
    private var revision = -1
    private var answers: [Key: GuestResponse] = [:]

    init(capacity: Int = 4096) { self.capacity = capacity }

    /// The answer for `request` as computed in this revision, if it was.
    func answer(to request: GuestRequest, instanceID: Int, revision: Int) -> GuestResponse? {
        guard revision == self.revision, Self.isCacheable(request) else { return nil }
        return answers[Key(instanceID: instanceID, target: request.target)]
    }

    func keep(_ response: GuestResponse, for request: GuestRequest, instanceID: Int, revision: Int) {
        guard Self.isCacheable(request), case .bytes = response.body else { return }
        if revision != self.revision || answers.count >= capacity {
            answers.removeAll(keepingCapacity: true)
            self.revision = revision
        }
        answers[Key(instanceID: instanceID, target: request.target)] = response
    }

    /// GET and HEAD have the same answer but for the body, which HEAD drops when it is sent.
    private static func isCacheable(_ request: GuestRequest) -> Bool {
        (request.method == .GET || request.method == .HEAD) && request.range == nil && request.webSocket == nil
    }
}
