import NIOHTTP1

/// libFuzzer's entry point over what a guest's request target reaches before any handler:
/// the path and query split (`GuestRequest`), routing (`Route`), percent-decoding, the
/// `Range` header (`ByteRange`) and the head-size scanner (`HeadScanner`). Each input is used
/// whole as a target, a header value and a byte stream; a broken property traps, which
/// libFuzzer reports with the input that did it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let text = String(decoding: bytes, as: UTF8.self)
    checkTarget(text)
    checkPercentDecoding(bytes)
    checkRange(text, size: Int(bytes.first ?? 0) * 37)
    checkHeadScanner(bytes, limit: 16 + Int(bytes.last ?? 0))
    return 0
}

private func checkTarget(_ uri: String) {
    let request = GuestRequest(head: HTTPRequestHead(version: .http1_1, method: .GET, uri: uri), body: nil)
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
    var encoded: [UInt8] = []
    for byte in bytes { encoded += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]] }
    precondition(PercentDecoding.decode(Substring(decoding: encoded, as: UTF8.self)) == bytes, "decode(encode(x)) != x")
    if let decoded = PercentDecoding.decode(Substring(decoding: bytes, as: UTF8.self)) {
        precondition(decoded.count <= String(decoding: bytes, as: UTF8.self).utf8.count, "decoding grew")
    }
}

private func checkRange(_ header: String, size: Int) {
    guard let (start, end) = ByteRange.parse(header, size: size) else { return }
    precondition(0 <= start && start <= end && end < size, "range \(start)-\(end) outside 0..<\(size)")
}

/// Cutting the stream anywhere never changes where the head ends or whether it is too large.
private func checkHeadScanner(_ bytes: [UInt8], limit: Int) {
    var whole = HeadScanner(limit: limit)
    let expected = whole.scan(bytes)
    for cut in [0, 1, bytes.count / 2, max(0, bytes.count - 1)] where cut <= bytes.count {
        var split = HeadScanner(limit: limit)
        var result = split.scan(bytes[..<cut])
        if result == .needMore {
            result = split.scan(bytes[cut...])
            if case .complete(let consumed) = result { result = .complete(consumed: cut + consumed) }
        }
        precondition(result == expected, "cut at \(cut): \(result) != \(expected)")
    }
    if case .complete(let consumed) = expected { precondition(consumed <= min(bytes.count, limit), "consumed \(consumed)") }
}
