import Foundation

/// The parts of a guest API response the contract fixes: status, Content-Type,
/// Content-Length and the exact body. Compared whole, so a failure shows all of them.
struct Answer: Equatable, CustomStringConvertible {
    var status: Int
    var contentType: String?
    var contentLength: String?
    var body: [UInt8]

    init(_ response: HTTPResponse) {
        status = response.status
        contentType = response.header("Content-Type")
        contentLength = response.header("Content-Length")
        body = response.body
    }

    init(status: Int, contentType: String, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        contentLength = String(body.count)
        self.body = body
    }

    /// Success JSON: compact, one trailing newline.
    static func json(_ text: String, status: Int = 200) -> Answer {
        Answer(status: status, contentType: "application/json", body: Array((text + "\n").utf8))
    }

    /// A raw value: the exact bytes, no newline.
    static func raw(_ bytes: [UInt8], status: Int = 200) -> Answer {
        Answer(status: status, contentType: "application/octet-stream", body: bytes)
    }

    static func raw(_ text: String) -> Answer { raw(Array(text.utf8)) }

    /// An error: the message and a newline.
    static func text(_ status: Int, _ message: String) -> Answer {
        Answer(status: status, contentType: "text/plain; charset=utf-8", body: Array((message + "\n").utf8))
    }

    static let pageNotFound = text(404, "404 page not found")
    static let notFound = text(404, "not found")
    static let notAuthorized = text(403, "not authorized")
    static let notInContainer = text(500, "pid not in container?")
    static let nonRootUser = text(401, "Access denied for non-root user")

    static func methodNotAllowed(_ method: String) -> Answer { text(405, "method \"\(method)\" not allowed") }

    var text: String { String(decoding: body, as: UTF8.self) }

    var description: String {
        "\(status) [\(contentType ?? "no Content-Type")] [Content-Length \(contentLength ?? "none")] \(String(reflecting: text))"
    }
}
