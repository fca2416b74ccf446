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
    /// Read for delivery with its values left out, being large (`Store.journal(_:wholeUpTo:)`):
    /// their sizes, in bytes; nil when the values are in the entry.
    public var leftOut: ValueSizes?

    /// Whether a guest sees it as an event: a device's change, or a `user.*` key's (as
    /// `JournalQuery.Visibility.guest` selects them).
    public var isGuestVisible: Bool {
        kind == .device || (kind == .config && name?.utf8.starts(with: "user.".utf8) == true)
    }

    public struct ValueSizes: Sendable, Equatable {
        public var old: Int
        public var new: Int

        public init(old: Int, new: Int) {
            self.old = old
            self.new = new
        }
    }

    public init(
        id: Int, timestampNs: Int, instanceID: Int, instance: String, kind: Kind, name: String? = nil,
        action: String? = nil, oldValue: [UInt8]? = nil, value: [UInt8]? = nil, leftOut: ValueSizes? = nil
    ) {
        self.id = id
        self.timestampNs = timestampNs
        self.instanceID = instanceID
        self.instance = instance
        self.kind = kind
        self.name = name
        self.action = action
        self.oldValue = oldValue
        self.value = value
        self.leftOut = leftOut
    }
}
