import GuestHTTP
import GuestRoutes
import NIOCore
import NIOHTTP1

/// The one answer a caller no instance owns gets (`500 pid not in container?`, or what its
/// request earns before that: 404 for a path there is none of, 4xx for a request that is not
/// one), when the whole request came with the connection: the bytes the connection handler
/// would write, worked out by the acceptor, which writes them itself. A flood of strangers'
/// connections then costs the event loops nothing: no channel is made for them.
struct CallerRefusal {
    let response: GuestResponse
    /// What it answered, for the metrics and the access log; nil for a request that is none.
    let request: GuestRequest?
    let endpoint: Metrics.Endpoint
    /// The answer as written.
    let bytes: ByteBuffer

    /// nil while the request is not whole in `received` (the acceptor then hands the
    /// connection to a loop, which waits for the rest).
    init?(received: ByteBuffer, outcome: Resolution.Outcome, limits: RequestParser.Limits, allocator: ByteBufferAllocator) {
        var parser = RequestParser(limits: limits)
        var unread = received
        let (minorVersion, withBody): (Int, Bool)
        switch parser.next(&unread) {
        case .needMore:
            return nil
        case .failure(let failure):
            (response, request, endpoint) = (failure.response, nil, .malformed)
            (minorVersion, withBody) = (1, true)
        case .request(let request):
            // The order the connection handler answers in: the path, then who is asking.
            let route = Route(path: request.path)
            let error: GuestError =
                switch outcome {
                case _ where route == nil: .pageNotFound
                case .unavailable: .identityUnavailable
                case .failed: .internalError
                case .matched, .unmatched: .notInContainer
                }
            (response, self.request, endpoint) = (error.response, request, Metrics.Endpoint(route))
            (minorVersion, withBody) = (request.minorVersion, request.method != .HEAD)
        }
        bytes = response.encoded(minorVersion: minorVersion, withBody: withBody, keepAlive: false, allocator: allocator)
    }
}
