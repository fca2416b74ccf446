import Crypto
import GuestJSON

/// A workload identity token (README, "Workload identity"): a compact JWS, signed ES256, whose
/// claims say which instance on which host asked, for whom (`aud`), and when.
public struct IdentityToken: Sendable {
    public var issuer: String
    /// The instance's name, or its SPIFFE ID (`spiffe://DOMAIN/guestapi/HOST/INSTANCE`).
    public var subject: String
    public var audience: String
    public var nonce: String?
    /// Seconds since the epoch.
    public var issuedAt: Int
    public var lifetime: Int
    public var instance: String
    public var instanceType: String
    public var location: String
    /// Changes whenever the instance is started or re-attached.
    public var boot: String
    /// The token's id: 128 random bits.
    public var jti = IdentityToken.randomID()

    public init(
        issuer: String, subject: String, audience: String, nonce: String?, issuedAt: Int, lifetime: Int, instance: String,
        instanceType: String, location: String, boot: String
    ) {
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self.nonce = nonce
        self.issuedAt = issuedAt
        self.lifetime = lifetime
        self.instance = instance
        self.instanceType = instanceType
        self.location = location
        self.boot = boot
    }

    /// `sub` for a SPIFFE trust domain: a valid JWT-SVID's.
    public static func spiffeID(domain: String, host: String, instance: String) -> String {
        "spiffe://\(domain)/guestapi/\(host)/\(instance)"
    }

    /// The token, signed with `key`.
    public func signed(with key: SigningKeys.Key) throws -> [UInt8] {
        var header = JSONWriter(capacity: 96)
        header.raw("{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":")
        header.string(key.id)
        header.raw("}")
        var token: [UInt8] = []
        token.reserveCapacity(768)
        Base64URL.encode(header.bytes, into: &token)
        token.append(UInt8(ascii: "."))
        Base64URL.encode(claims, into: &token)
        let signature = try key.privateKey.signature(for: token)
        token.append(UInt8(ascii: "."))
        Base64URL.encode(signature.rawRepresentation, into: &token)  // r then s, 32 bytes each (RFC 7518 §3.4)
        return token
    }

    /// The payload's JSON, in a fixed order.
    var claims: [UInt8] {
        var json = JSONWriter(capacity: 384)
        json.raw("{\"iss\":")
        json.string(issuer)
        json.raw(",\"sub\":")
        json.string(subject)
        json.raw(",\"aud\":")
        json.string(audience)
        json.raw(",\"iat\":")
        json.int(issuedAt)
        json.raw(",\"nbf\":")
        json.int(issuedAt)
        json.raw(",\"exp\":")
        json.int(issuedAt + lifetime)
        json.raw(",\"jti\":")
        json.string(jti)
        if let nonce {
            json.raw(",\"nonce\":")
            json.string(nonce)
        }
        json.raw(",\"guestapi\":{\"instance\":")
        json.string(instance)
        json.raw(",\"instance_type\":")
        json.string(instanceType)
        json.raw(",\"location\":")
        json.string(location)
        json.raw(",\"boot\":")
        json.string(boot)
        json.raw("}}")
        return json.bytes
    }

    /// 128 random bits, base64url: a token's id.
    public static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<2).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }
        return Base64URL.encode(bytes)
    }
}
