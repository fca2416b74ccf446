import Crypto
import Foundation
import GuestJSON

#if canImport(Glibc)
import Glibc
#endif

/// The keys that sign workload identity tokens (README, "Workload identity"): P-256 private
/// keys in files only root can read, `STATE/identity/KID.key` (PKCS #8 PEM, 0600, in a folder
/// of 0700), never in the database, which backups copy around. `STATE/identity/signing` names
/// the key that signs; the others stay in the published key set until retired, so that tokens
/// they signed still verify. A key's id is its RFC 7638 thumbprint.
///
/// Made on first use, by whichever process asks first (the daemon minting, or the CLI);
/// making, rotating and retiring hold `STATE/identity/lock`, so two processes never both make
/// a first key. Not Sendable: a process reads through `SigningKeys.Cache`.
public struct SigningKeys {
    public let folder: String

    /// One key: its id and its private key. Sendable though swift-crypto's key type is not
    /// marked so: the key is never changed after it is read, and signing only reads it
    /// (BoringSSL's ECDSA signs with a const key).
    public struct Key: @unchecked Sendable {
        public let id: String
        public let privateKey: P256.Signing.PrivateKey
    }

    public init(stateDirectory: String) {
        folder = stateDirectory + "/identity"
    }

    /// The key that signs, made (with the folder) when there is none yet.
    public func signingKey() throws -> Key {
        if let key = try currentKey() { return key }
        return try locked {
            if let key = try currentKey() { return key }
            return try make()
        }
    }

    /// Every key in the set, the signing one first; none before the first is made.
    public func keys() throws -> [Key] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        let current = try signingID()
        let keys = try names.filter { $0.hasSuffix(".key") }.sorted().map { try load(id: String($0.dropLast(4))) }
        return keys.filter { $0.id == current } + keys.filter { $0.id != current }
    }

    /// A new key signs from now on; the one before stays in the set. Returns the new key's id.
    public func rotate() throws -> String {
        try locked { try make().id }
    }

    /// Takes a key out of the set: tokens it signed no longer verify. The signing key cannot
    /// be retired (rotate first).
    public func retire(_ id: String) throws {
        try locked {
            guard Self.isKeyID(id), FileManager.default.fileExists(atPath: path(id)) else {
                throw SigningKeysError.unknownKey(id)
            }
            guard try signingID() != id else { throw SigningKeysError.retiringTheSigningKey(id) }
            guard unlink(path(id)) == 0 else { throw SigningKeysError.system("remove \(path(id))", errno) }
            try syncFolder()
        }
    }

    /// The public keys as a JWK Set (RFC 7517): what verifiers need, nothing more.
    public func jwks() throws -> [UInt8] {
        var json = JSONWriter()
        json.raw("{\"keys\":[")
        for (index, key) in try keys().enumerated() {
            if index > 0 { json.raw(",") }
            Self.writeJWK(key, into: &json)
        }
        json.raw("]}")
        return json.bytes
    }

    /// A key's public JWK, with its id, use and algorithm.
    static func writeJWK(_ key: Key, into json: inout JSONWriter) {
        let (x, y) = Self.coordinates(key.privateKey.publicKey)
        json.raw("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":")
        json.string(x)
        json.raw(",\"y\":")
        json.string(y)
        json.raw(",\"kid\":")
        json.string(key.id)
        json.raw(",\"use\":\"sig\",\"alg\":\"ES256\"}")
    }

    /// The RFC 7638 thumbprint: SHA-256 of the required members in lexical order, base64url.
    static func thumbprint(_ publicKey: P256.Signing.PublicKey) -> String {
        let (x, y) = coordinates(publicKey)
        let canonical = #"{"crv":"P-256","kty":"EC","x":""# + x + #"","y":""# + y + #""}"#
        return Base64URL.encode(Array(SHA256.hash(data: Array(canonical.utf8))))
    }

    private static func coordinates(_ publicKey: P256.Signing.PublicKey) -> (x: String, y: String) {
        let raw = Array(publicKey.rawRepresentation)  // X then Y, 32 bytes each
        return (Base64URL.encode(raw[..<32]), Base64URL.encode(raw[32...]))
    }

    /// A thumbprint's shape: 43 base64url characters.
    static func isKeyID(_ id: String) -> Bool {
        id.utf8.count == 43 && id.utf8.allSatisfy { $0.isBase64URL }
    }

    // MARK: Files

    var signingFile: String { folder + "/signing" }

    private func path(_ id: String) -> String { folder + "/" + id + ".key" }

    private func signingID() throws -> String? {
        guard let data = FileManager.default.contents(atPath: signingFile) else { return nil }
        let id = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard Self.isKeyID(id) else { throw SigningKeysError.damaged(signingFile) }
        return id
    }

    private func currentKey() throws -> Key? {
        try signingID().map { try load(id: $0) }
    }

    private func load(id: String) throws -> Key {
        guard Self.isKeyID(id), let data = FileManager.default.contents(atPath: path(id)) else {
            throw SigningKeysError.damaged(path(id))
        }
        do {
            let privateKey = try P256.Signing.PrivateKey(pemRepresentation: String(decoding: data, as: UTF8.self))
            guard Self.thumbprint(privateKey.publicKey) == id else { throw SigningKeysError.damaged(path(id)) }
            return Key(id: id, privateKey: privateKey)
        } catch let error as SigningKeysError {
            throw error
        } catch {
            throw SigningKeysError.damaged(path(id))
        }
    }

    /// A new key, written and synced, then named the signing one.
    private func make() throws -> Key {
        let privateKey = P256.Signing.PrivateKey()
        let key = Key(id: Self.thumbprint(privateKey.publicKey), privateKey: privateKey)
        try write(Array(privateKey.pemRepresentation.utf8), to: path(key.id))
        try write(Array((key.id + "\n").utf8), to: signingFile)
        return key
    }

    /// `bytes` at `path`, whole or not at all: a file of 0600 beside it, synced, renamed.
    private func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw SigningKeysError.system("create \(temporary)", errno) }
        defer { close(fd) }
        guard fchmod(fd, 0o600) == 0, bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count, fsync(fd) == 0
        else { throw SigningKeysError.system("write \(temporary)", errno) }
        guard rename(temporary, path) == 0 else { throw SigningKeysError.system("rename \(temporary)", errno) }
        try syncFolder()
    }

    private func syncFolder() throws {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SigningKeysError.system("open \(folder)", errno) }
        defer { close(fd) }
        _ = fsync(fd)
    }

    /// Runs `body` holding the folder's lock (made 0700 first, if need be).
    private func locked<T>(_ body: () throws -> T) throws -> T {
        if mkdir(folder, 0o700) != 0 && errno != EEXIST { throw SigningKeysError.system("make \(folder)", errno) }
        var info = stat()
        guard lstat(folder, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { throw SigningKeysError.damaged(folder) }
        if info.st_mode & 0o077 != 0 { _ = chmod(folder, 0o700) }
        let fd = open(folder + "/lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw SigningKeysError.system("open \(folder)/lock", errno) }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw SigningKeysError.system("lock \(folder)/lock", errno) }
        return try body()
    }
}

public enum SigningKeysError: Error, Equatable, CustomStringConvertible {
    case unknownKey(String)
    case retiringTheSigningKey(String)
    case damaged(String)
    case system(String, Int32)

    public var description: String {
        switch self {
        case .unknownKey(let id): "no signing key \(id)"
        case .retiringTheSigningKey(let id): "key \(id) signs now: rotate first, then retire it"
        case .damaged(let path): "\(path) is not a signing key guestapi wrote"
        case .system(let what, let code): "cannot \(what): \(String(cString: strerror(code)))"
        }
    }
}

extension UInt8 {
    fileprivate var isBase64URL: Bool {
        (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A) || (self >= 0x30 && self <= 0x39) || self == 0x2D || self == 0x5F
    }
}
