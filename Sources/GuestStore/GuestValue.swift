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

/// One committed config value, for good: its row's id is never used again and its version
/// changes with every change of the value, so a read that finds either changed knows the
/// value is no longer this one.
public struct StoredValue: Sendable, Equatable {
    public let row: Int
    public let version: Int
    public let size: Int

    public init(row: Int, version: Int, size: Int) {
        self.row = row
        self.version = version
        self.size = size
    }
}
