import Testing

@testable import GuestStore

/// Each config value's digest, kept beside it by the schema (`config_digests`): what a guest's
/// answer is named by (its `ETag`). Written by every writer, whatever the path; gone with the
/// value; the same for the same bytes.
@Suite("config digests")
struct ConfigDigestTests {
    /// The first 16 bytes of SHA-256, as published test vectors give them.
    static let hello = "2cf24dba5fb0a30e26e83b2ac5b9e29e"
    static let empty = "e3b0c44298fc1c149afbf4c8996fb924"

    func digest(_ store: Store, _ key: String) throws -> String? {
        try store.db.statement(
            "SELECT lower(hex(d.digest)) FROM config c JOIN config_digests d ON d.config_id = c.id WHERE c.key = ?"
        ).first(.text(key)) { $0.text(0) }
    }

    @Test func digestsAreTheValuesSHA256() throws {
        #expect(ContentDigest(Array("hello".utf8)).entityTag == "\"\(Self.hello)\"")
        #expect(ContentDigest([]).entityTag == "\"\(Self.empty)\"")
        let folder = try TemporaryDirectory()
        let store = try folder.storeWithInstance()
        try store.setConfig(instance: "c1", key: "user.a", value: Array("hello".utf8))
        try store.setConfig(instance: "c1", key: "user.empty", value: [])
        // A text value, as a careless writer might store it, is named by its bytes too.
        try store.db.execute("INSERT INTO config (instance_id, key, value) SELECT id, 'user.text', 'hello' FROM instances")
        #expect(try digest(store, "user.a") == Self.hello)
        #expect(try digest(store, "user.empty") == Self.empty)
        #expect(try digest(store, "user.text") == Self.hello)
        let id = try store.instance(named: "c1").id
        #expect(try store.guestValue(instanceID: id, key: "user.text", wholeUpTo: 1)?.digest.entityTag == "\"\(Self.hello)\"")
    }

    @Test func digestsFollowTheirValues() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.storeWithInstance()
        try store.setConfig(instance: "c1", key: "user.a", value: Array("other".utf8))
        try store.setConfig(instance: "c1", key: "user.a", value: Array("hello".utf8))
        #expect(try digest(store, "user.a") == Self.hello)
        try store.unsetConfig(instance: "c1", key: "user.a")
        try store.setConfig(instance: "c1", key: "user.b", value: Array("hello".utf8))
        try store.deleteInstance(name: "c1")
        #expect(try store.db.integer("SELECT count(*) FROM config_digests") == 0, "gone with their values")
    }

    /// A large value is named without being read; a recursive listing carries values up to a
    /// size each and a budget together, and names the rest.
    @Test func largeValuesAreNamedNotCarried() throws {
        let folder = try TemporaryDirectory()
        let store = try folder.storeWithInstance()
        let id = try store.instance(named: "c1").id
        let large = [UInt8](repeating: 0x61, count: 100_000)
        try store.setConfig(instance: "c1", key: "user.a", value: Array(repeating: 0x62, count: 600))
        try store.setConfig(instance: "c1", key: "user.b", value: large)
        try store.setConfig(instance: "c1", key: "user.c", value: Array(repeating: 0x63, count: 600))
        try store.setConfig(instance: "c1", key: "user.d", value: Array("hello".utf8))
        try store.setConfig(instance: "c1", key: "volatile.x", value: [1])

        let (value, digest) = try #require(try store.guestValue(instanceID: id, key: "user.b", wholeUpTo: 1000))
        guard case .stored = value else {
            Issue.record("read whole")
            return
        }
        #expect(digest == ContentDigest(large))

        let entries = try store.guestConfig(instanceID: id, wholeUpTo: 1000, budget: 1000)
        #expect(entries.map(\.key) == ["user.a", "user.b", "user.c", "user.d"])
        #expect(entries.map { $0.value?.count } == [600, nil, nil, nil], "user.c and user.d come past the budget")
        #expect(entries.map(\.size) == [600, 100_000, 600, 5])
        #expect(entries[3].digest.entityTag == "\"\(Self.hello)\"")
        #expect(try store.guestConfig(instanceID: id, wholeUpTo: 1000, budget: 2000).map { $0.value?.count } == [600, nil, 600, 5])
    }
}
