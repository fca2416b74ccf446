/// The kinds of answer a guest gets (README, "What a guest sees"); `jwt` is an identity token's.
public enum ContentType: Sendable {
    case json, raw, text, jwt

    public var value: StaticString {
        switch self {
        case .json: "application/json"
        case .raw: "application/octet-stream"
        case .text: "text/plain; charset=utf-8"
        case .jwt: "application/jwt"
        }
    }

    /// The head of a `200 OK` answer up to this type, as one piece: most answers start so.
    public var okHead: StaticString {
        switch self {
        case .json: "HTTP/1.1 200 OK\r\nContent-Type: application/json"
        case .raw: "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream"
        case .text: "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8"
        case .jwt: "HTTP/1.1 200 OK\r\nContent-Type: application/jwt"
        }
    }
}
