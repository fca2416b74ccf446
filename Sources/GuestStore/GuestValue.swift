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
/// knows the value is no longer this one. The file counts too (`generation`): a file put in
/// the database's place starts its ids and versions over, for other instances' values.
public struct StoredValue: Sendable, Equatable {
    public let row: Int
    public let version: Int
    public let size: Int
    /// Whose, and which key: checked again when it is read.
    public let instanceID: Int
    public let key: String
    /// The store's file generation when it was looked up (`Store.generation`).
    public let generation: Int

    public init(row: Int, version: Int, size: Int, instanceID: Int, key: String, generation: Int) {
        self.row = row
        self.version = version
        self.size = size
        self.instanceID = instanceID
        self.key = key
        self.generation = generation
    }
}
