import GuestRoutes
import NIOHTTP1

@testable import GuestHTTP

/// What libFuzzer runs for each input (main.swift): checks over what a guest's bytes reach before any handler: request
/// framing (`RequestParser`: head, body, limits), the path and query split (`GuestRequest`),
/// routing (`Route`), percent-decoding, and the values parsed from a request: the `Range`
/// header (`ByteRange`) and the events query (`EventQuery`, `ParameterError`); plus the CLI's
/// `--older-than` (`Age`), one more number parser from untrusted text, and the JSON reader of
/// `apply` (`JSONText`, against Foundation's). Each input is used whole as a byte stream, a
/// request target, a header value, a parameter (both as sent and as the query decodes it) and
/// a JSON document; a broken property traps, which libFuzzer reports with the input that did it.
func fuzz(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let text = String(decoding: bytes, as: UTF8.self)
    checkParser(bytes)
    checkTarget(GuestRequest(method: .GET, target: text, minorVersion: 1))
    checkPercentDecoding(bytes)
    checkRange(text, sizeHint: bytes.last ?? 0)
    checkSince(text)
    checkSince(GuestRequest(method: .GET, target: "/1.0/events?since=" + text, minorVersion: 1).query("since"))
    checkKinds(GuestRequest(method: .GET, target: "/1.0/events?type=" + text, minorVersion: 1).query("type"))
    checkAge(text)
    checkJSON(bytes)
    return 0
}

/// Inputs up to this size are also fed one byte at a time (fuzz.sh's -max_len).
private let byteByByteLimit = 4096
private let crlf: [UInt8] = [0x0D, 0x0A]

/// The parser's events depend on the bytes, not on how they arrive: whole, cut in two where
/// the first byte says, or one byte at a time. The limits come from the input's last two
/// bytes, small enough for a few KiB to reach them.
private func checkParser(_ bytes: [UInt8]) {
    let limits = RequestParser.Limits(
        maxHeadBytes: 16 + 16 * Int(bytes.last ?? 0),
        maxBodyBytes: 16 * Int(bytes.dropLast().last ?? 0))
    let whole = Feed(bytes, limits: limits)
    let cut = Int(bytes.first ?? 0) * bytes.count / 255
    compare(Feed(bytes, cuts: [cut], limits: limits), whole, "cut at \(cut)")
    if bytes.count <= byteByByteLimit {
        compare(Feed(bytes, cuts: Array(bytes.indices.dropFirst()), limits: limits), whole, "byte by byte")
    }
    checkRequests(whole, bytes, limits)
}

private func compare(_ run: Feed, _ whole: Feed, _ feeding: String) {
    guard run != whole else { return }
    let index =
        zip(run.outcomes, whole.outcomes).enumerated().first { $1.0 != $1.1 }?.offset
        ?? min(run.outcomes.count, whole.outcomes.count)
    preconditionFailure(
        """
        \(feeding) differs from whole at event \(index): \
        \(run.outcomes.dropFirst(index).first.map { "\($0)" } ?? "none") != \
        \(whole.outcomes.dropFirst(index).first.map { "\($0)" } ?? "none") \
        (ends \(run.ends) / \(whole.ends), partial \(run.partial) / \(whole.partial))
        """)
}

/// Each request has a whole head within the head limit (the empty lines before it count, as
/// the parser counts them), a body within the body limit, and took at least those bytes.
private func checkRequests(_ run: Feed, _ bytes: [UInt8], _ limits: RequestParser.Limits) {
    var start = 0
    for (request, end) in run.requests {
        guard let head = headLength(bytes, from: start), head <= end - start else {
            preconditionFailure("the request at \(start)..<\(end) has no whole head")
        }
        precondition(head <= limits.maxHeadBytes, "a head of \(head) bytes passed the limit of \(limits.maxHeadBytes)")
        let body = request.body?.count ?? 0
        precondition(body <= limits.maxBodyBytes, "a body of \(body) bytes passed the limit of \(limits.maxBodyBytes)")
        precondition(head + body <= end - start, "the request at \(start)..<\(end) is shorter than its head and body")
        precondition(request.minorVersion == 0 || request.minorVersion == 1, "HTTP/1.\(request.minorVersion)")
        precondition(
            !request.target.isEmpty && request.target.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F },
            "target \(request.target.debugDescription)")
        checkTarget(GuestRequest(method: request.method, target: request.target, minorVersion: request.minorVersion))
        start = end
    }
}

/// Bytes from `start` through the first empty line after the request line.
private func headLength(_ bytes: [UInt8], from start: Int) -> Int? {
    var line = start
    while bytes[line...].starts(with: crlf) { line += 2 }
    return bytes[line...].firstRange(of: crlf + crlf).map { $0.upperBound - start }
}

private func checkTarget(_ request: GuestRequest) {
    let path = request.path
    precondition(!path.contains("?"), "the path keeps no query")
    if let route = Route(path: path) {
        switch route {
        case .configKey(let key): precondition(!key.isEmpty, "an empty key routes")
        case .imageExport(let fingerprint): precondition(!fingerprint.isEmpty, "an empty fingerprint routes")
        default: precondition(!path.contains("%"), "an escaped fixed path routes")
        }
        _ = route.allows(.PATCH)
    }
    _ = request.query("since")
    _ = request.query("type")
}

private func checkPercentDecoding(_ bytes: [UInt8]) {
    let hex = Array("0123456789ABCDEF".utf8)
    let encoded = bytes.flatMap { [UInt8(ascii: "%"), hex[Int($0 >> 4)], hex[Int($0 & 15)]] }
    precondition(PercentDecoding.decode(encoded) == bytes, "decode(encode(x)) != x")
    let request = GuestRequest(method: .GET, target: "/1.0/events?since=1&key=" + String(decoding: encoded, as: UTF8.self), minorVersion: 1)
    precondition(request.query("key") == String(decoding: bytes, as: UTF8.self), "query(encode(x)) != x")
    if let decoded = PercentDecoding.decode(bytes) {
        precondition(decoded.count <= bytes.count, "decoding grew")
        precondition(bytes.contains(UInt8(ascii: "%")) || decoded == bytes, "decoding changed bytes without an escape")
    }
}
