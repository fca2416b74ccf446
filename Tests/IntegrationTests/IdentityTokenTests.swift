import Foundation
import Testing

/// Workload identity tokens (README, "Workload identity"), checked by verifiers nobody here
/// wrote: Debian's PyJWT, and a Go program on its standard library (tools/identity/verify.go).
@Suite(.timeLimit(.minutes(3)))
struct IdentityTokenTests {
    static let tokenPath = "/1.0/identity?audience=probe"

    /// A token's claims, as verifiers read them.
    struct Claims: Decodable, Equatable {
        struct Guestapi: Decodable, Equatable {
            var instance: String
            var instance_type: String
            var location: String
            var boot: String
        }
        var iss: String
        var sub: String
        var aud: String
        var iat: Int
        var nbf: Int
        var exp: Int
        var jti: String
        var nonce: String?
        var guestapi: Guestapi

        var instance: String { guestapi.instance }
    }

    /// The claims of the token `answer` carries, unverified; nil when it carries none.
    static func claims(_ answer: Answer) throws -> Claims? {
        guard answer.status == 200, answer.contentType == "application/jwt" else { return nil }
        let parts = answer.text.split(separator: ".")
        guard parts.count == 3, let payload = base64URL(parts[1]) else { return nil }
        return try JSONDecoder().decode(Claims.self, from: payload)
    }

    static func base64URL(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }

    /// A token and the key set of its state, in files, for the verifiers.
    final class Minted {
        let folder: TemporaryState
        let token: String
        var tokenFile: String { folder.directory + "/token" }
        var jwksFile: String { folder.directory + "/jwks.json" }

        init(_ token: String, cli: AdminCLI) throws {
            folder = try TemporaryState()
            self.token = token
            try token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
            try cli.succeed("identity", "jwks").write(toFile: jwksFile, atomically: true, encoding: .utf8)
        }

        /// Another token in the same folder (an edited one, say).
        func replacing(_ token: String) throws -> String {
            let file = folder.directory + "/other"
            try token.write(toFile: file, atomically: true, encoding: .utf8)
            return file
        }
    }

    static let pyjwt = """
        import json, sys, jwt
        jwks_file, token_file, audience, issuer, nonce, leeway = sys.argv[1:]
        token = open(token_file).read().strip()
        keys = {k["kid"]: jwt.PyJWK(k) for k in json.load(open(jwks_file))["keys"]}
        # A negative leeway checks expiry as if that much later (PyJWT takes no "now"); the
        # not-before and issued-at checks are then not this call's.
        later = {"verify_nbf": False, "verify_iat": False} if int(leeway) < 0 else {}
        try:
            kid = jwt.get_unverified_header(token)["kid"]
            if kid not in keys:
                raise jwt.InvalidKeyError("no key " + kid)
            claims = jwt.decode(token, keys[kid].key, algorithms=["ES256"], audience=audience, issuer=issuer or None,
                                leeway=int(leeway), options={"require": ["iss", "sub", "aud", "iat", "nbf", "exp", "jti"], **later})
            if nonce and claims.get("nonce") != nonce:
                raise jwt.InvalidTokenError("nonce")
        except jwt.PyJWTError as error:
            print(type(error).__name__)
            sys.exit(1)
        print(json.dumps(claims))
        """

    /// PyJWT's verdict: the claims, or the name of its error. `leeway` below zero checks the
    /// token as if that many seconds later.
    static func pyjwt(
        _ minted: Minted, token: String? = nil, audience: String, issuer: String = "", nonce: String = "", leeway: Int = 0
    )
        throws -> (ok: Bool, said: String)
    {
        let file = try token.map { try minted.replacing($0) } ?? minted.tokenFile
        let result = try Command("/usr/bin/python3", ["-c", pyjwt, minted.jwksFile, file, audience, issuer, nonce, String(leeway)]).run()
        return (result.status == 0, result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// tools/identity/verify.go, built once.
    static let goVerifier: String? = {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/go") else { return nil }
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../tools/identity/verify.go")
            .standardized.path
        let binary = NSTemporaryDirectory() + "guestapi-verify-\(UUID().uuidString)"
        let built = try? Command("/usr/bin/go", ["build", "-o", binary, source]).run(timeout: .seconds(120))
        return built?.status == 0 ? binary : nil
    }()
    /// Whether Debian's python can import PyJWT.
    static let pyjwtAvailable = (try? Command("/usr/bin/python3", ["-c", "import jwt"]).run().status) == 0
    static let pyjwtMissing: Comment = "PyJWT is not installed (apt-get install python3-jwt)"
    static let goMissing: Comment = "Go is not installed (apt-get install golang-go): the Go verifier is not run"

    static func goVerify(
        _ minted: Minted, token: String? = nil, audience: String, issuer: String = "", nonce: String = "", now: Int? = nil
    )
        throws -> (ok: Bool, said: String)
    {
        let verifier = try #require(goVerifier)
        let file = try token.map { try minted.replacing($0) } ?? minted.tokenFile
        var arguments = ["-jwks", minted.jwksFile, "-token", file, "-audience", audience, "-issuer", issuer, "-nonce", nonce]
        if let now { arguments += ["-now", String(now)] }
        let result = try Command(verifier, arguments).run()
        return (
            result.status == 0, (result.status == 0 ? result.stdoutText : result.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
        )
    }

    static func mint(_ guest: Guest, audience: String = "vault", nonce: String? = nil) throws -> Answer {
        try guest.answer("/1.0/identity?audience=\(audience)" + (nonce.map { "&nonce=\($0)" } ?? ""))
    }

    static var hostname: String { ProcessInfo.processInfo.hostName }

    @Test(.enabled(if: pyjwtAvailable, pyjwtMissing))
    func aTokenSaysWhichInstanceAskedAndBothVerifiersAcceptIt() throws {
        let host = try GuestHost()
        let guest = try host.guest("web1")
        let answer = try Self.mint(guest, nonce: "n-0123")
        #expect(answer.status == 200 && answer.contentType == "application/jwt", "\(answer)")
        let claims = try #require(try Self.claims(answer))
        let issuer = "https://\(Self.hostname)/guestapi"
        #expect(claims.iss == issuer && claims.sub == "web1" && claims.aud == "vault" && claims.nonce == "n-0123")
        #expect(claims.nbf == claims.iat && claims.exp == claims.iat + 600)
        #expect(abs(claims.iat - Int(Date().timeIntervalSince1970)) < 60)
        #expect(claims.guestapi.instance == "web1" && claims.guestapi.instance_type == "container")
        #expect(claims.guestapi.location == Self.hostname)
        let header = try #require(Self.base64URL(answer.text.split(separator: ".")[0]))
        let fields = try #require(try JSONSerialization.jsonObject(with: header) as? [String: String])
        #expect(fields["alg"] == "ES256" && fields["typ"] == "JWT" && fields["kid"]?.count == 43, "\(fields)")

        let second = try #require(try Self.claims(try Self.mint(guest)))
        #expect(second.jti != claims.jti && second.guestapi.boot == claims.guestapi.boot && second.nonce == nil)

        let minted = try Minted(answer.text, cli: host.cli)
        let python = try Self.pyjwt(minted, audience: "vault", issuer: issuer, nonce: "n-0123")
        #expect(python.ok, "PyJWT: \(python.said)")
        if Self.goVerifier != nil {
            let go = try Self.goVerify(minted, audience: "vault", issuer: issuer, nonce: "n-0123")
            #expect(go.ok, "Go: \(go.said)")
        }
    }

    /// An edited payload, another audience, an expired token, a nonce that is not the one
    /// asked for: refused by both verifiers.
    @Test(.enabled(if: pyjwtAvailable, pyjwtMissing))
    func forgedStolenAndStaleTokensAreRefused() throws {
        let host = try GuestHost()
        let guest = try host.guest("web1")
        let answer = try Self.mint(guest, nonce: "fresh")
        let claims = try #require(try Self.claims(answer))
        let minted = try Minted(answer.text, cli: host.cli)
        // web1 becomes web2 in the payload, signature kept.
        let parts = answer.text.split(separator: ".").map(String.init)
        let payload = String(decoding: try #require(Self.base64URL(Substring(parts[1]))), as: UTF8.self)
            .replacingOccurrences(of: "web1", with: "web2")
        let edited = [
            parts[0],
            Data(payload.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: ""),
            parts[2],
        ].joined(separator: ".")

        #expect(try Self.pyjwt(minted, token: edited, audience: "vault") == (false, "InvalidSignatureError"))
        #expect(try Self.pyjwt(minted, audience: "other") == (false, "InvalidAudienceError"))
        #expect(try Self.pyjwt(minted, audience: "vault", leeway: -601) == (false, "ExpiredSignatureError"))
        #expect(try Self.pyjwt(minted, audience: "vault", nonce: "replayed") == (false, "InvalidTokenError"))
        #expect(try Self.pyjwt(minted, audience: "vault", leeway: -590).ok, "still good 590 s on")
        if Self.goVerifier != nil {
            #expect(try Self.goVerify(minted, token: edited, audience: "vault") == (false, "verify: bad signature"))
            #expect(try !Self.goVerify(minted, audience: "other").ok)
            #expect(try !Self.goVerify(minted, audience: "vault", now: claims.exp).ok)
            #expect(try !Self.goVerify(minted, audience: "vault", now: claims.nbf - 1).ok)
            #expect(try !Self.goVerify(minted, audience: "vault", nonce: "replayed").ok)
        }
    }

    /// A token signed before `rotate` verifies until its key is retired; then not, while the
    /// new key's tokens do. Both are journaled; the signing key cannot be retired.
    @Test(.enabled(if: pyjwtAvailable, pyjwtMissing))
    func rotatedKeysVerifyUntilRetired() throws {
        let host = try GuestHost()
        let guest = try host.guest("web1")
        let before = try Self.mint(guest)
        let oldKID = try #require(Self.kid(before))
        let newKID = try host.cli.succeed("identity", "rotate").trimmingCharacters(in: .whitespacesAndNewlines)
        let after = try Self.mint(guest)
        #expect(Self.kid(after) == newKID && newKID != oldKID, "a token minted after rotate is signed by the new key")

        let bothKeys = try Minted(before.text, cli: host.cli)
        #expect(try Self.pyjwt(bothKeys, audience: "vault").ok, "the old key is still in the set")
        let refused = try host.cli.run(["identity", "retire", newKID])
        #expect(refused.status == 1 && refused.stderrLines == ["guestapi-admin: key \(newKID) signs now: rotate first, then retire it"])
        try host.cli.succeed("identity", "retire", oldKID)

        let retired = try Minted(before.text, cli: host.cli)
        #expect(try Self.pyjwt(retired, audience: "vault") == (false, "InvalidKeyError"))
        #expect(try Self.pyjwt(retired, token: after.text, audience: "vault").ok)
        if Self.goVerifier != nil {
            #expect(try Self.goVerify(retired, audience: "vault") == (false, "verify: no key \"\(oldKID)\" in the set"))
            #expect(try Self.goVerify(retired, token: after.text, audience: "vault").ok)
        }
        let journal = try host.cli.journal("--type", "lifecycle").filter { $0.action?.hasPrefix("identity-key") == true }
        #expect(
            journal.map { "\($0.action!) \($0.metadata["kid"]?.string ?? "")" } == [
                "identity-key-rotated \(newKID)", "identity-key-retired \(oldKID)",
            ])
    }

    static func kid(_ answer: Answer) -> String? {
        guard let header = base64URL(answer.text.split(separator: ".")[0]),
            let fields = try? JSONSerialization.jsonObject(with: header) as? [String: String]
        else { return nil }
        return fields["kid"]
    }

    /// Private keys in files only root reads, never in the database; the admin socket and the
    /// CLI publish the same set; discovery's files name the issuer's key set.
    @Test func keysStayInRootsFilesAndArePublished() throws {
        let host = try GuestHost()
        let guest = try host.guest("web1")
        _ = try Self.mint(guest)
        let folder = host.state.directory + "/identity"
        var info = stat()
        #expect(stat(folder, &info) == 0 && info.st_mode & 0o777 == 0o700)
        let keys = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".key") }
        try #require(keys.count == 1)
        #expect(stat(folder + "/" + keys[0], &info) == 0 && info.st_mode & 0o777 == 0o600)
        let pem = try String(contentsOfFile: folder + "/" + keys[0], encoding: .utf8)
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let database = try Data(contentsOf: URL(fileURLWithPath: host.state.database))
        let body = pem.split(separator: "\n").dropFirst().first.map(String.init) ?? "?"
        #expect(database.range(of: Data(body.utf8)) == nil, "the private key is in the database")

        let jwks = try host.cli.succeed("identity", "jwks")
        #expect(try OperationsTests.admin(host.state, "/jwks").body.trimmingCharacters(in: .newlines) == jwks.dropLast())
        #expect(!jwks.contains("\"d\""), "a private member in the published set")

        let site = host.state.directory + "/site"
        try host.cli.succeed("identity", "discovery", "--issuer", "https://ids.example/h3", "--output", site)
        let discovery = try String(contentsOfFile: site + "/.well-known/openid-configuration", encoding: .utf8)
        #expect(discovery.contains(#""issuer":"https://ids.example/h3","jwks_uri":"https://ids.example/h3/jwks.json""#))
        #expect(try String(contentsOfFile: site + "/jwks.json", encoding: .utf8) == jwks)
    }

    /// The host's settings: lifetime, issuer, SPIFFE trust domain; bad values refused.
    @Test func theHostSetsLifetimeIssuerAndSpiffeDomain() throws {
        let host = try GuestHost()
        let guest = try host.guest("web1")
        try host.cli.succeed("settings", "set", "identity-lifetime", "60")
        try host.cli.succeed("settings", "set", "identity-issuer", "https://ids.example/h3")
        try host.cli.succeed("settings", "set", "identity-spiffe-domain", "prod.example")
        let claims = try #require(try Self.claims(try Self.mint(guest)))
        #expect(claims.exp - claims.iat == 60 && claims.iss == "https://ids.example/h3")
        #expect(claims.sub == "spiffe://prod.example/guestapi/\(Self.hostname)/web1")
        for (name, value) in [
            ("identity-lifetime", "3601"), ("identity-lifetime", "0"), ("identity-issuer", "ftp://x"),
            ("identity-issuer", "https://x/"), ("identity-spiffe-domain", "Prod.Example"),
        ] {
            let result = try host.cli.run(["settings", "set", name, value])
            #expect(result.status == 64 && result.stderrLines.count == 1, "\(name) \(value): \(result.stderr)")
        }
    }

    @Test(arguments: [
        ("/1.0/identity", "missing audience"),
        ("/1.0/identity?audience=", #"invalid audience """#),
        ("/1.0/identity?audience=%zz", #"invalid audience "%zz""#),
        ("/1.0/identity?audience=a%0Ab", #"invalid audience "a\x0ab""#),
        ("/1.0/identity?audience=" + String(repeating: "a", count: 257), "invalid audience"),
        ("/1.0/identity?audience=a&nonce=" + String(repeating: "n", count: 129), "invalid nonce"),
    ])
    func aBadQueryIsOneLine(path: String, said: String) throws {
        let host = try GuestHost()
        let guest = try host.guest("web1")
        let answer = try guest.answer(path)
        #expect(answer.status == 400 && answer.text.hasPrefix(said) && answer.text.split(separator: "\n").count == 1, "\(answer)")
    }

    /// `security.guestapi.identity=false` and `security.guestapi=false` mint nothing; nor does
    /// a process no instance owns; unknown parameters are ignored.
    @Test func theGatesHold() throws {
        let host = try GuestHost()
        let guest = try host.guest("web1")
        #expect(try Self.claims(try guest.answer("/1.0/identity?audience=a&colour=blue&nonce=1")) != nil)
        try host.cli.succeed("set", "security.guestapi.identity", "false")
        #expect(try Self.mint(guest) == .notAuthorized)
        try host.cli.succeed("set", "security.guestapi.identity", "true")
        try host.cli.succeed("set", "security.guestapi", "false")
        #expect(try Self.mint(guest) == .notAuthorized)
        #expect(try Self.mint(try host.stranger()) == .notInContainer)
    }

    /// Re-attached (as a restart registers its new init), an instance's `boot` changes; a token
    /// is counted in /metrics and logged with its audience and id, never itself.
    @Test func bootChangesWithEachAttachAndTokensAreCountedNotLogged() throws {
        let host = try GuestHost(daemonArguments: ["--log-level", "debug"])
        let guest = try host.guest("web1")
        let first = try #require(try Self.claims(try Self.mint(guest, audience: "ci")))
        let restarted = try host.stranger()
        try host.cli.succeed("instance", "attach", "web1", "--pid", String(restarted.process.shellPID))
        let second = try #require(try Self.claims(try Self.mint(restarted, audience: "ci")))
        #expect(second.sub == "web1" && second.guestapi.boot != first.guestapi.boot)

        try DaemonMetrics.wait(host.state, "guestapi_identity_tokens_total", atLeast: 2)
        let log = host.daemon.process.stderrSoFar
        #expect(log.contains("audience=ci") && log.contains("jti=\(first.jti)"), "\(log)")
        #expect(!log.contains("eyJ"), "a token in the log")
    }

    /// A container restarted by its runtime: the same instance, another boot.
    @Test(.enabled(if: Runtimes.runcAvailable, Runtimes.runcMissing))
    func aRestartedContainerHasAnotherBoot() throws {
        let cli = try AdminCLI()
        let daemon = try Daemon(state: cli.state)
        let container = try RuncContainer(state: cli.state)
        try container.start()
        let first = try #require(try Self.claims(try container.answer(Self.tokenPath)))
        try container.stop()
        try container.start()
        let second = try #require(try Self.claims(try container.answer(Self.tokenPath)))
        #expect(first.sub == container.name && second.sub == container.name)
        #expect(first.guestapi.boot != second.guestapi.boot)
        _ = daemon
    }
}
