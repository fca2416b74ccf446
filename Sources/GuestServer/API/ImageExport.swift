import Foundation
import GuestStore
import NIOHTTP1

/// `GET /1.0/images/{fingerprint}/export`: the file, whole or one byte range.
enum ImageExport {
    static func response(image: Image, path: String, range: String?) throws -> GuestResponse {
        var headers: HTTPHeaders = [
            "Content-Type": "application/octet-stream",
            "Content-Disposition": "inline;filename=\(image.fingerprint)\(image.fileExtension)",
            "Accept-Ranges": "bytes",
        ]
        guard let range else {
            return GuestResponse(status: .ok, headers: headers, body: .file(path: path, offset: 0, length: image.size))
        }
        guard let (start, end) = ByteRange.parse(range, size: image.size) else {
            throw GuestError.rangeNotSatisfiable(size: image.size)
        }
        headers.add(name: "Content-Range", value: "bytes \(start)-\(end)/\(image.size)")
        return GuestResponse(status: .partialContent, headers: headers, body: .file(path: path, offset: start, length: end - start + 1))
    }
}

/// A single `Range: bytes=…` request (first-last, first-, or -suffix), as inclusive offsets.
enum ByteRange {
    static func parse(_ header: String, size: Int) -> (start: Int, end: Int)? {
        guard header.hasPrefix("bytes="), size > 0 else { return nil }
        let spec = header.dropFirst("bytes=".count)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let suffix = Int(last), suffix > 0 else { return nil }
            return (max(0, size - suffix), size - 1)
        }
        guard let start = Int(first), start >= 0, start < size else { return nil }
        if last.isEmpty { return (start, size - 1) }
        guard let end = Int(last), end >= start else { return nil }
        return (start, min(end, size - 1))
    }
}
