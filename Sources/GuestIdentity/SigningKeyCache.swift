import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The signing key as a process that mints keeps it: read once, and again only when
/// `STATE/identity/signing` changed (a rotation by the CLI), which one `stat` a token tells.
/// Sendable: the key is behind a lock, held only to swap it.
public final class SigningKeyCache: @unchecked Sendable {
    private let keys: SigningKeys
    private let lock = NSLock()
    private var known: (stamp: Stamp, key: SigningKeys.Key)?

    /// What identifies one version of the signing file.
    private struct Stamp: Equatable {
        var inode: UInt
        var modified: Int
        var nanoseconds: Int
        var size: Int
    }

    public init(stateDirectory: String) {
        keys = SigningKeys(stateDirectory: stateDirectory)
    }

    /// The key that signs now (made if there is none).
    public func current() throws -> SigningKeys.Key {
        let stamp = Self.stamp(keys.signingFile)
        if let stamp, let known = lock.withLock({ known }), known.stamp == stamp { return known.key }
        let key = try keys.signingKey()
        if let stamp = Self.stamp(keys.signingFile) { lock.withLock { known = (stamp, key) } }
        return key
    }

    private static func stamp(_ path: String) -> Stamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Stamp(inode: UInt(info.st_ino), modified: info.st_mtim.tv_sec, nanoseconds: info.st_mtim.tv_nsec, size: Int(info.st_size))
    }
}
