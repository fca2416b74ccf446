import Foundation
import GuestStore
import NIOCore
import NIOPosix
import Testing

@testable import GuestServer

/// Replay pages, read off the event loops from a real database file: an instance's events of
/// the kinds asked for, after the id given, in id order, cut by count and by bytes.
@Suite("replay reader")
struct ReplayReaderTests {
    /// A database with instances `c1` and `c2` in a folder of its own, and a reader over it.
    final class Journal {
        let path = NSTemporaryDirectory() + "replay-reader-\(UUID().uuidString)"
        let store: Store
        let reader: ReplayReader
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

        init() throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            store = try Store(path: path + "/guestapi.db", imagesDirectory: path + "/images")
            reader = ReplayReader(store: try Store(path: path + "/guestapi.db", imagesDirectory: path + "/images"))
        }

        deinit {
            reader.shutdown()
            try? group.syncShutdownGracefully()
            try? FileManager.default.removeItem(atPath: path)
        }

        func page(_ instance: String, after: Int, kinds: Set<JournalEntry.Kind> = [.config, .device]) throws -> ReplayReader.Page {
            let id = try store.instance(named: instance).id
            return try reader.page(instanceID: id, after: after, kinds: kinds, withIDs: true, on: group.next()).wait()
        }

        /// The ids of the instance's journal entries of these kinds, oldest first.
        func ids(_ instance: String, kinds: Set<JournalEntry.Kind> = [.config, .device]) throws -> [Int] {
            try store.journal(JournalQuery(instanceID: try store.instance(named: instance).id, after: 0, kinds: kinds, visibility: .guest))
                .map(\.id)
        }
    }

    /// 600 changes of c1 between c2's: two pages, the first cut at 500 and said to be.
    @Test func pagesGoInIdOrderCutAtTheirCount() throws {
        let journal = try Journal()
        _ = try journal.store.createInstance(name: "c2", config: [(key: "user.other", value: "x")])
        _ = try journal.store.createInstance(name: "c1", config: (1...600).map { (key: "user.k\($0)", value: "\($0)") })
        try journal.store.setConfig(instance: "c2", key: "user.other", value: Array("y".utf8))
        let all = try journal.ids("c1")
        try #require(all.count == 600)

        let first = try journal.page("c1", after: 0)
        #expect(first.events.map(\.id) == Array(all.prefix(500)))
        #expect(first.full)
        #expect(first.events.allSatisfy { $0.instanceID == first.events[0].instanceID && !$0.isLarge })
        let second = try journal.page("c1", after: first.events.last!.id)
        #expect(second.events.map(\.id) == Array(all.dropFirst(500)))
        #expect(!second.full)
        #expect(try journal.page("c1", after: all.last!).events.isEmpty)
        #expect(first.firstKept == 1)
    }

    /// Only the kinds asked for: devices alone here; lifecycle entries are never a guest's.
    @Test func onlyTheKindsAskedFor() throws {
        let journal = try Journal()
        _ = try journal.store.createInstance(name: "c1", config: [(key: "user.a", value: "1")])
        try journal.store.addDevice(instance: "c1", device: "eth0", type: "nic", settings: [(key: "hwaddr", value: "00:16:3e:00:00:01")])
        try journal.store.setReady(instanceID: try journal.store.instance(named: "c1").id, true)

        let devices = try journal.page("c1", after: 0, kinds: [.device])
        #expect(devices.events.map(\.kind) == [.device])
        #expect(devices.events.map(\.id) == (try journal.ids("c1", kinds: [.device])))
        let lifecycle = try journal.page("c1", after: 0, kinds: [.lifecycle])
        #expect(lifecycle.events.isEmpty, "lifecycle entries are the host's")
    }

    /// Large values' events are read without their values, and a page is cut by bytes: four
    /// changes of 100 KiB come in pages that hold about 256 KiB of values.
    @Test func largeEventsAreReadWithoutTheirValuesAndCutByBytes() throws {
        let journal = try Journal()
        let big = String(repeating: "v", count: 100 << 10)
        _ = try journal.store.createInstance(name: "c1", config: (1...4).map { (key: "user.big\($0)", value: big) })
        let all = try journal.ids("c1")

        let first = try journal.page("c1", after: 0)
        #expect(first.full)
        #expect(first.events.count == 3, "256 KiB of values: the third passes it")
        #expect(first.events.allSatisfy { $0.isLarge })
        #expect(first.events.allSatisfy { $0.bytes(withID: true) < 1024 }, "held without the value")
        let rest = try journal.page("c1", after: first.events.last!.id)
        #expect((first.events + rest.events).map(\.id) == all)
    }

    /// The oldest id kept moves with a prune, so a subscriber whose start was pruned is told.
    @Test func firstKeptFollowsAPrune() throws {
        let journal = try Journal()
        _ = try journal.store.createInstance(name: "c1", config: (1...10).map { (key: "user.k\($0)", value: "\($0)") })
        _ = try journal.store.pruneJournal(.keep(4))
        let page = try journal.page("c1", after: 0)
        let kept = try journal.store.firstKeptJournalID()
        #expect(kept > 1)
        #expect(page.firstKept == kept)
        #expect(page.events.map(\.id) == (try journal.ids("c1")))
        #expect(page.events.allSatisfy { $0.id >= kept })
    }
}
