import GuestStore
import Testing

@Suite("config values")
struct ConfigValueTests {
    struct Sample: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var bytes: [UInt8]
    }

    static let samples: [Sample] = [
        Sample(testDescription: "empty", bytes: []),
        Sample(testDescription: "NUL bytes", bytes: [0, 0x61, 0, 0x62, 0]),
        Sample(testDescription: "invalid UTF-8", bytes: [0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x80]),
        Sample(testDescription: "1 MiB of every byte", bytes: (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }),
    ]

    @Test(arguments: samples)
    func roundTripsByteForByte(_ sample: Sample) throws {
        let folder = try TemporaryDirectory()
        let store = try folder.storeWithInstance()
        let id = try store.instance(named: "c1").id

        try store.setConfig(instance: "c1", key: "user.value", value: sample.bytes)

        #expect(try store.configValue(instanceID: id, key: "user.value") == sample.bytes)
        #expect(try folder.store().configValue(instanceID: id, key: "user.value") == sample.bytes)
        #expect(try store.journal(JournalQuery(kinds: [.config])).last?.value == sample.bytes)
    }

    @Test func keysUpTo256BytesAreAccepted() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.storeWithInstance()
        let longest = "user." + String(repeating: "k", count: 251)

        try store.setConfig(instance: nil, key: longest, value: [])

        #expect(throws: StoreError.self) { try store.setConfig(instance: nil, key: longest + "k", value: []) }
    }
}
