import GuestHTTP

/// The query of `GET /1.0/identity` (README, "Workload identity"): `audience`, required, and
/// `nonce`, each printable ASCII, percent-decoded strictly (a malformed escape is an error,
/// never a value taken as sent).
public struct IdentityQuery: Equatable, Sendable {
    public var audience: String
    public var nonce: String?

    public static let maxAudience = 256
    public static let maxNonce = 128

    /// Why a query is refused.
    public enum Problem: Error, Equatable {
        case missingAudience
        case invalid(ParameterError)

        public var message: String {
            switch self {
            case .missingAudience: "missing audience"
            case .invalid(let error): error.message
            }
        }
    }

    /// `audience` and `nonce` from the request target (still percent-encoded).
    public init(target: String) throws(Problem) {
        do {
            guard let audience = try Self.parameter("audience", in: target, limit: Self.maxAudience) else { throw Problem.missingAudience }
            self.audience = audience
            nonce = try Self.parameter("nonce", in: target, limit: Self.maxNonce)
        } catch let error as ParameterError {
            throw .invalid(error)
        } catch {
            throw .missingAudience
        }
    }

    /// The first `name=` parameter's value, decoded and checked: 1 to `limit` bytes of
    /// printable ASCII (space included).
    static func parameter(_ name: String, in target: String, limit: Int) throws(ParameterError) -> String? {
        guard let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard PercentDecoding.decode(parts[0].utf8) == Array(name.utf8) else { continue }
            let raw = parts.count > 1 ? parts[1] : ""
            guard let bytes = PercentDecoding.decode(raw.utf8), (1...limit).contains(bytes.count),
                bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
            else {
                throw ParameterError(
                    name: name, value: String(decoding: PercentDecoding.decode(raw.utf8) ?? Array(raw.utf8), as: UTF8.self))
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        return nil
    }
}
