import GuestJSON
import GuestStore
import NIOHTTP1

/// Every way a guest request fails, and the one place each becomes a status and a message.
enum GuestError: Error, Equatable {
    case notFound
    case pageNotFound
    case methodNotAllowed(HTTPMethod)
    case forbidden
    case notInContainer
    case nonRootUser
    case badRequest(String)
    case imageNotFound(String)
    case gone(String)
    case rangeNotSatisfiable(size: Int)
    case tooManyRequests
    /// Identity could not be read now (the daemon is out of descriptors, say): try again.
    case identityUnavailable
    case internalError

    var response: GuestResponse {
        switch self {
        case .notFound: .text(.notFound, "not found")
        case .pageNotFound: .text(.notFound, "404 page not found")
        case .methodNotAllowed(let method): .text(.methodNotAllowed, "method \"\(method.rawValue)\" not allowed")
        case .forbidden: .text(.forbidden, "not authorized")
        case .notInContainer: .text(.internalServerError, "pid not in container?")
        case .nonRootUser: .text(.unauthorized, "Access denied for non-root user")
        case .badRequest(let message): .text(.badRequest, message)
        case .gone(let message): .text(.gone, message)
        case .tooManyRequests: .text(.tooManyRequests, "too many requests")
        case .identityUnavailable: .text(.serviceUnavailable, "cannot identify the caller now; try again")
        case .internalError: .text(.internalServerError, "internal error")
        case .rangeNotSatisfiable(let size):
            {
                var response = GuestResponse.text(.rangeNotSatisfiable, "invalid range")
                response.fields = [("Content-Range", "bytes */\(size)")]
                return response
            }()
        case .imageNotFound(let fingerprint):
            // Image export alone answers with Incus's JSON error envelope.
            {
                var json = JSONWriter()
                json.raw("{\"type\":\"error\",\"status\":\"\",\"status_code\":0,\"operation\":\"\",\"error_code\":404,\"error\":")
                json.string("Image \"\(fingerprint)\" not found")
                json.raw(",\"metadata\":null}")
                var response = GuestResponse.json(json.bytes)
                response.status = .notFound
                return response
            }()
        }
    }
}
