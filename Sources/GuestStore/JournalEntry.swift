/// One captured change, as the schema's triggers wrote it.
public struct JournalEntry: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case config, device, lifecycle
    }

    public var id: Int
    public var timestampNs: Int
    public var instanceID: Int
    public var instance: String
    public var kind: Kind
    /// The config key or device name; for a lifecycle `hook-refused`, the container refused.
    public var name: String?
    /// added/updated/removed for devices, instance-* for lifecycle.
    public var action: String?
    public var oldValue: [UInt8]?
    /// The new config value, or a device's config JSON (the old one for removed).
    public var value: [UInt8]?
}
