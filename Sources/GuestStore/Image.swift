/// An image in the image store, named by the SHA-256 of its bytes.
public struct Image: Sendable, Equatable, Codable {
    public var fingerprint: String
    public var size: Int
    public var fileExtension: String
    public var isPublic: Bool
    public var createdNs: Int
}
