import ArgumentParser
import Foundation
import GuestIdentity
import GuestStore
import StandardStreams

/// Workload identity's keys (README, "Workload identity"): the key set verifiers need, the
/// files to publish for OpenID Connect discovery, rotation and retirement (journaled).
struct IdentityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity", abstract: "The keys that sign workload identity tokens: publish, rotate, retire.",
        subcommands: [JWKS.self, Discovery.self, Rotate.self, Retire.self])

    struct JWKS: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "jwks", abstract: "Print the public keys as a JWK Set (the first is made if there is none).")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let keys = try IdentityCommand.keys(global)
            Output.write(
                try IdentityCommand.reporting {
                    _ = try keys.signingKey()
                    return try keys.jwks()
                } + [0x0A])
        }
    }

    struct Discovery: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "discovery",
            abstract: "Print the OpenID Connect discovery document for ISSUER, or with --output write it and the key set there.",
            discussion: """
                With --output DIR: DIR/.well-known/openid-configuration and DIR/jwks.json, to publish at ISSUER from any \\
                web server. ISSUER must be the tokens' (settings set identity-issuer ISSUER).
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "The issuer URL, as the tokens' iss says it.") var issuer: String
        @Option(help: "A folder to write the files into.") var output: String?

        func validate() throws {
            do {
                _ = try Store.Setting.identityIssuer.parse(issuer)
            } catch {
                throw ValidationError("--issuer: \(error)")
            }
        }

        func run() throws {
            guard let output else {
                return Output.write(GuestIdentity.Discovery.document(issuer: issuer) + [0x0A])
            }
            let keys = try IdentityCommand.keys(global)
            let jwks = try IdentityCommand.reporting {
                _ = try keys.signingKey()
                return try keys.jwks()
            }
            for file in GuestIdentity.Discovery.files(issuer: issuer, jwks: jwks) {
                let path = output + "/" + file.path
                do {
                    try FileManager.default.createDirectory(
                        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    try Data(file.bytes).write(to: URL(fileURLWithPath: path))
                    _ = chmod(path, 0o644)
                } catch {
                    throw IdentityCommand.failure("cannot write \(path): \(error.localizedDescription)")
                }
                Output.line(path)
            }
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate", abstract: "Make a new signing key; the old one stays in the key set until retired. Prints its id.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let keys = try IdentityCommand.keys(global)
            let id = try IdentityCommand.reporting { try keys.rotate() }
            try global.withStore(.create) { try $0.journalHostEvent(action: "identity-key-rotated", name: id) }
            Output.line(id)
        }
    }

    struct Retire: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retire", abstract: "Take a key out of the key set: tokens it signed no longer verify.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The key's id (kid).") var kid: String

        func run() throws {
            let keys = try IdentityCommand.keys(global)
            try IdentityCommand.reporting { try keys.retire(kid) }
            try global.withStore { try $0.journalHostEvent(action: "identity-key-retired", name: kid) }
        }
    }

    /// The keys of the state the options name, which must be there (else one line, as for
    /// every command that needs a state).
    static func keys(_ global: GlobalOptions) throws -> SigningKeys {
        try global.withStore(.read) { _ in }
        return SigningKeys(stateDirectory: global.paths.stateDirectory)
    }

    /// Runs `body`; a key failure is one line and exit 1.
    @discardableResult
    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SigningKeysError {
            throw failure("\(error)")
        }
    }

    static func failure(_ message: String) -> ExitCode {
        StandardStream.error("guestapi-admin: \(message)")
        return ExitCode.failure
    }
}
