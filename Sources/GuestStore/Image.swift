/// An image in the image store, named by the SHA-256 of its bytes.
public struct Image: Sendable, Equatable, Encodable {
    public var fingerprint: String
    public var size: Int
    public var fileExtension: String
    public var isPublic: Bool
    public var createdNanoseconds: Int

    /// The CLI's JSON shape: snake_case, an RFC 3339 time.
    enum CodingKeys: String, CodingKey {
        case fingerprint, size
        case fileExtension = "extension"
        case isPublic = "public"
        case createdAt = "created_at"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(fingerprint, forKey: .fingerprint)
        try container.encode(size, forKey: .size)
        try container.encode(fileExtension, forKey: .fileExtension)
        try container.encode(isPublic, forKey: .isPublic)
        try container.encode(JournalEntry.rfc3339(nanoseconds: createdNanoseconds), forKey: .createdAt)
    }
}
