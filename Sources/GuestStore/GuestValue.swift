/// A config value as a guest's answer carries it: small ones whole, large ones by reference,
/// to be sent in pieces (`Store.readValue`) without ever being held whole.
public enum GuestValue: Sendable, Equatable {
    case bytes([UInt8])
    case stored(StoredValue)

    public var size: Int {
        switch self {
        case .bytes(let bytes): bytes.count
        case .stored(let value): value.size
        }
    }
}

/// One committed config value, for good: its row's id is never used again in the file and
/// its version changes with every change of the value, so a read that finds either changed
/// knows the value is no longer this one. The file counts too (`fileEpoch`): a file put in
/// the database's place starts its ids and versions over, for other instances' values.
public struct StoredValue: Sendable, Equatable {
    public let row: Int
    public let version: Int
    public let size: Int
    /// Whose, and which key: checked again when it is read.
    public let instanceID: Int
    public let key: String
    /// The store's file epoch when it was looked up (`Store.fileEpoch`).
    public let fileEpoch: Int

    public init(row: Int, version: Int, size: Int, instanceID: Int, key: String, fileEpoch: Int) {
        self.row = row
        self.version = version
        self.size = size
        self.instanceID = instanceID
        self.key = key
        self.fileEpoch = fileEpoch
    }
}

/// One of a journal entry's values, for an event that carries it: the entry never changes,
/// and is there until it is pruned.
public struct JournalValue: Sendable, Equatable {
    public let id: Int
    /// The old value (a config key's before the change), else the new one (or a device's config).
    public let old: Bool
    public let size: Int
    /// The store's file epoch when the entry was read (`Store.fileEpoch`).
    public let fileEpoch: Int

    public init(id: Int, old: Bool, size: Int, fileEpoch: Int) {
        self.id = id
        self.old = old
        self.size = size
        self.fileEpoch = fileEpoch
    }
}

/// A large value to read in pieces (`Store.beginValue`).
public enum ValueSource: Sendable, Equatable {
    case config(StoredValue)
    case journal(JournalValue)

    public var size: Int {
        switch self {
        case .config(let value): value.size
        case .journal(let value): value.size
        }
    }

    var fileEpoch: Int {
        switch self {
        case .config(let value): value.fileEpoch
        case .journal(let value): value.fileEpoch
        }
    }
}
