import Foundation
import GuestHTTP
import GuestStore

/// `GET /1.0/images/{fingerprint}/export`: the file, whole or one byte range.
enum ImageExport {
    /// Only a SHA-256 in lowercase hex names an image. Anything else is not looked up: the
    /// database would read `<fingerprint>%00.tar` as `<fingerprint>`.
    static func isFingerprint(_ text: String) -> Bool {
        let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
        let letters = UInt8(ascii: "a")...UInt8(ascii: "f")
        return text.utf8.count == 64 && text.utf8.allSatisfy { digits.contains($0) || letters.contains($0) }
    }

    static func response(image: Image, path: String, range: String?) throws -> GuestResponse {
        var response = GuestResponse(
            status: .ok, contentType: .raw,
            fields: [("Content-Disposition", "inline;filename=\(image.fingerprint)\(image.fileExtension)"), ("Accept-Ranges", "bytes")],
            body: .file(path: path, offset: 0, length: image.size))
        guard let range else { return response }
        let start: Int
        let end: Int
        switch ByteRange(range, size: image.size) {
        case .whole: return response
        case .unsatisfiable: throw GuestError.rangeNotSatisfiable(size: image.size)
        case .part(let first, let last): (start, end) = (first, last)
        }
        response.status = .partialContent
        response.fields.append(("Content-Range", "bytes \(start)-\(end)/\(image.size)"))
        response.body = .file(path: path, offset: start, length: end - start + 1)
        return response
    }
}
