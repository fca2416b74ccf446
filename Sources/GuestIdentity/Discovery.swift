import GuestJSON

/// What a verifier that speaks OpenID Connect discovery fetches (README, "Workload
/// identity"): `ISSUER/.well-known/openid-configuration`, which names `ISSUER/jwks.json`.
/// Both are static files, to publish from any web server.
public enum Discovery {
    /// The discovery document for `issuer` (no trailing slash).
    public static func document(issuer: String) -> [UInt8] {
        var json = JSONWriter()
        json.raw("{\"issuer\":")
        json.string(issuer)
        json.raw(",\"jwks_uri\":")
        json.string(issuer + "/jwks.json")
        json.raw(",\"response_types_supported\":[\"id_token\"],\"subject_types_supported\":[\"public\"]")
        json.raw(",\"id_token_signing_alg_values_supported\":[\"ES256\"],\"claims_supported\":")
        json.array(["iss", "sub", "aud", "iat", "nbf", "exp", "jti", "nonce", "guestapi"])
        json.raw("}")
        return json.bytes
    }

    /// The files to publish, by their path under the web server's root for the issuer.
    public static func files(issuer: String, jwks: [UInt8]) -> [(path: String, bytes: [UInt8])] {
        [(".well-known/openid-configuration", document(issuer: issuer) + [0x0A]), ("jwks.json", jwks + [0x0A])]
    }
}
