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
            guard let audience = try QueryParameter.value("audience", in: target, limit: Self.maxAudience) else {
                throw Problem.missingAudience
            }
            self.audience = audience
            nonce = try QueryParameter.value("nonce", in: target, limit: Self.maxNonce)
        } catch let error as ParameterError {
            throw .invalid(error)
        } catch {
            throw .missingAudience
        }
    }
}
