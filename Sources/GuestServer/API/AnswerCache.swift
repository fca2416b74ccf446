import GuestHTTP
import GuestStore
import NIOHTTP1

/// One event loop's answers to GET and HEAD, kept while the database stays as it was
/// (`RevisionMemo`): an answer is a function of the database, the instance and the request,
/// so one computed in a snapshot of some revision is exactly what any later snapshot of that
/// revision would compute, and "answers from the database as committed now" holds.
///
/// Only immediate answers with a body of bytes are kept (files and streams are not). Not
/// Sendable: each loop has its own and uses it only on the loop.
final class AnswerCache {
    private struct Key: Hashable {
        var instanceID: Int
        var target: String
    }

    private var answers: RevisionMemo<Key, GuestResponse>

    init(capacity: Int = 4096) { answers = RevisionMemo(capacity: capacity) }

    /// The answer for `request` as computed in this revision, if it was.
    func answer(to request: GuestRequest, instanceID: Int, revision: Int) -> GuestResponse? {
        guard Self.isCacheable(request) else { return nil }
        return answers.value(for: Key(instanceID: instanceID, target: request.target), revision: revision)
    }

    func keep(_ response: GuestResponse, for request: GuestRequest, instanceID: Int, revision: Int) {
        guard Self.isCacheable(request), case .bytes = response.body else { return }
        answers.keep(response, for: Key(instanceID: instanceID, target: request.target), revision: revision)
    }

    /// GET and HEAD have the same answer but for the body, which HEAD drops when it is sent.
    private static func isCacheable(_ request: GuestRequest) -> Bool {
        (request.method == .GET || request.method == .HEAD) && request.range == nil && request.webSocket == nil
    }
}
