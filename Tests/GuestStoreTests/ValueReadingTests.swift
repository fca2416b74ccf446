import Foundation
import GuestStore
import Testing

/// A large value read in pieces, on a connection of its own (`Store.beginValue`): every piece of
/// one committed value, and only of the value that was looked up.
@Suite("reading a value in pieces")
struct ValueReadingTests {
    static let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }

    /// A store with `user.big` on c1, its reference, and a second connection to read it with.
    func stage(_ folder: TemporaryDirectory) throws -> (store: Store, reader: Store, value: StoredValue) {
        let store = try folder.store()
        _ = try store.createInstance(name: "c1")
        try store.setConfig(instance: "c1", key: "user.big", value: Self.bytes)
        guard
            case .stored(let value)? = try store.guestValue(
                instanceID: try store.instance(named: "c1").id, key: "user.big",
                wholeUpTo: 64 << 10)?.value
        else {
            throw StoreError.invalidArgument("not stored")
        }
        return (store, try folder.store(), value)
    }

    func read(_ reader: Store, _ value: StoredValue) throws -> [UInt8] {
        var read: [UInt8] = []
        var offset = 0
        while offset < value.size {
            let size = min(65_536, value.size - offset)
            var piece = [UInt8](repeating: 0, count: size)
            try piece.withUnsafeMutableBytes { try reader.readValue(offset: offset, into: $0) }
            read += piece
            offset += size
        }
        return read
    }

    /// Changed after the first piece: the rest is of the value begun, never the new one's.
    @Test func theValueBegunIsReadWholeHoweverItChanges() throws {
        let folder = try TemporaryDirectory()
        let (store, reader, value) = try stage(folder)
        #expect(try reader.beginValue(.config(value)))
        try store.setConfig(instance: "c1", key: "user.big", value: Array(Self.bytes.reversed()))
        #expect(try read(reader, value) == Self.bytes)
        reader.endValue()
        #expect(try !reader.beginValue(.config(value)), "the value looked up is no more")
    }

    /// A reference is only good for the row, instance, key and file it was taken from: a file
    /// put in the database's place starts its row ids and versions over.
    @Test func anotherInstancesKeyOrFileIsNeverRead() throws {
        let folder = try TemporaryDirectory()
        let (_, reader, value) = try stage(folder)
        let forged = [
            StoredValue(
                row: value.row, version: value.version, size: value.size, instanceID: value.instanceID + 1, key: value.key,
                fileEpoch: value.fileEpoch),
            StoredValue(
                row: value.row, version: value.version, size: value.size, instanceID: value.instanceID, key: "user.other",
                fileEpoch: value.fileEpoch),
            StoredValue(
                row: value.row, version: value.version, size: value.size, instanceID: value.instanceID, key: value.key,
                fileEpoch: value.fileEpoch + 1),
        ]
        for other in forged { #expect(try !reader.beginValue(.config(other))) }
        #expect(try reader.beginValue(.config(value)))
    }
}
