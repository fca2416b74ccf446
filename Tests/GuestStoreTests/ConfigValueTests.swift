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

    /// `apply` sets keys in the order given: an explicit instance-id is kept, though the
    /// cloud-init key beside it, inserted, makes a new one (restoring an export must not make
    /// cloud-init run again).
    @Test func applyKeepsAnExplicitInstanceID() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.store()
        let state = try DesiredState(
            json: Array(
                #"""
                {"name": "c1", "config": {"cloud-init.user-data": "#cloud-config\n", "volatile.cloud-init.instance-id": "11111111-2222-3333-4444-555555555555"}}
                """#.utf8))
        _ = try store.apply(state, identities: [:], prune: false)
        let id = try store.instance(named: "c1").id
        #expect(
            try store.configValue(instanceID: id, key: "volatile.cloud-init.instance-id")
                == Array("11111111-2222-3333-4444-555555555555".utf8))
        #expect(try store.plan(state, identities: [:], prune: false).items.map(\.change) == [.unchanged])
    }

    /// A value stored before the maximum was lowered stays when given back unchanged
    /// (`export | apply`); a change to it is held to the maximum.
    @Test func aValueFromBeforeALowerMaximumStaysUnchanged() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.store()
        let large = [UInt8](repeating: 7, count: 4096)
        _ = try store.createInstance(name: "c1")
        try store.setConfig(instance: "c1", key: "user.big", value: large)
        try store.setSetting(.maxValueSize, "2048")
        let unchanged = DesiredState(instances: [.init(name: "c1", config: ["user.big": large])])
        _ = try store.apply(unchanged, identities: [:], prune: false)
        let changed = DesiredState(instances: [.init(name: "c1", config: ["user.big": large + [1]])])
        #expect(throws: StoreError.self) { try store.apply(changed, identities: [:], prune: false) }
    }
}
