import Crypto
import GuestHTTP
import GuestIdentity
import GuestRoutes
import GuestStore

#if canImport(Glibc)
import Glibc
#endif

/// `GET /1.0/identity?audience=AUD[&nonce=N]` (README, "Workload identity"): a token, signed
/// by the host's key, saying which instance asked. Minting writes nothing to the database:
/// one signature (tens of microseconds) on the loop, like any other answer's work, so a guest
/// that mints in a loop is served in turn with every other connection of its loop.
struct IdentityEndpoint: Sendable {
    let keys: SigningKeyCache
    /// The host's name, as tokens name it (`location`, and in a SPIFFE ID).
    let host: String

    func response(to request: GuestRequest, instance: GuestInstance, store: Store) throws -> GuestResponse {
        guard instance.identityEnabled else { throw GuestError.forbidden }
        let query: IdentityQuery
        do {
            query = try IdentityQuery(target: request.target)
        } catch {
            throw GuestError.badRequest(error.message)
        }
        let settings = try store.identitySettings()
        var token = IdentityToken(
            issuer: settings.issuer ?? "https://\(host)/guestapi",
            subject: settings.spiffeDomain.map { IdentityToken.spiffeID(domain: $0, host: host, instance: instance.name) } ?? instance.name,
            audience: query.audience, nonce: query.nonce, issuedAt: time(nil), lifetime: settings.lifetime, instance: instance.name,
            instanceType: instance.type.rawValue, location: host, boot: Self.boot(instance))
        var response = GuestResponse(status: .ok, contentType: .jwt, body: .bytes(try token.signed(with: try keys.current())))
        response.minted = (query.audience, token.jti)
        return response
    }

    /// What changes whenever the instance is started or re-attached (every start registers
    /// its new init: one more attach), and differs between instances: a hash of its id, its
    /// creation time and its attach count.
    static func boot(_ instance: GuestInstance) -> String {
        let text = "\(instance.id):\(instance.createdNanoseconds):\(instance.attachCount)"
        return Base64URL.encode(Array(SHA256.hash(data: Array(text.utf8))).prefix(16))
    }
}
