import Crypto

/// What names a body by its bytes: the first 16 bytes of its SHA-256. A config value's is kept
/// beside it (`config_digests`, written by every writer's triggers); a guest's answer is
/// named by its body's (its `ETag`), so two answers with the same bytes have the same name,
/// from any daemon, before and after a restart.
public struct ContentDigest: Sendable, Hashable {
    public let bytes: [UInt8]

    public init(_ body: UnsafeRawBufferPointer) {
        bytes = Array(SHA256.hash(data: body).prefix(16))
    }

    public init(_ body: [UInt8]) {
        self = body.withUnsafeBytes { Self($0) }
    }

    /// As stored; nil unless it has a digest's length.
    public init?(stored: [UInt8]) {
        guard stored.count == 16 else { return nil }
        bytes = stored
    }

    /// The digest of `parts` one after another, each but the last told apart by its length:
    /// for a body made of a head and a value named by its digest (`meta-data`).
    public init(parts: [[UInt8]]) {
        var hash = SHA256()
        for part in parts {
            withUnsafeBytes(of: UInt64(part.count).bigEndian) { hash.update(bufferPointer: $0) }
            hash.update(data: part)
        }
        bytes = Array(hash.finalize().prefix(16))
    }

    /// As an HTTP entity tag: quoted lowercase hex.
    public var entityTag: String {
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = [UInt8(ascii: "\"")]
        text.reserveCapacity(34)
        for byte in bytes {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 15)])
        }
        text.append(UInt8(ascii: "\""))
        return String(decoding: text, as: UTF8.self)
    }
}
