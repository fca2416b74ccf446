import Foundation
import Testing

/// Replay (README, "Events and replay"): `?since=ID` sends the journal after ID, then goes live, with no
/// gap and no duplicate, across daemon crashes; a pruned ID is 410.
@Suite("events: replay", .timeLimit(.minutes(3)))
struct EventsReplayTests {
    /// Checks that `messages` are exactly the guest's events for `records`, ids included, in order.
    func expectEvents(
        _ messages: [String], are records: [JournalRecord],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(messages.map(GuestEvent.id) == records.map(\.id), sourceLocation: sourceLocation)
        #expect(try messages.map(GuestEvent.parse) == records.map { $0.event(withID: true) }, sourceLocation: sourceLocation)
    }

    /// `user.<prefix>1` = `<value>1` … `user.<prefix><count>` = `<value><count>`.
    func numberedKeys(_ prefix: String, _ count: Int, value: String = "v") -> [(key: String, value: String)] {
        (1...count).map { ("user.\(prefix)\($0)", "\(value)\($0)") }
    }

    @Test(arguments: [EventSubscriber.Transport.webSocket, .stream])
    func sinceZeroReplaysTheGuestVisibleHistoryThenGoesLive(transport: EventSubscriber.Transport) throws {
        let harness = try EventsHarness("--config", "user.a=1", "--config", "cloud-init.user-data=#cloud-config")
        try harness.admin("set", "user.a", "2")
        try harness.admin("set", "security.guestapi.images", "true")
        try harness.admin("device", "add", "d1", "disk", "path=/mnt")
        try harness.admin("device", "remove", "d1")
        try harness.admin("unset", "user.a")
        _ = try harness.guest.answer("/1.0", "-X", "PATCH", "--data", #"{"state":"Ready"}"#)
        let history = try harness.guestVisibleJournal()
        try #require(history.count == 5)

        let subscriber = try harness.subscribe("since=0", transport: transport)
        let devices = try harness.subscribe("since=0&type=device", transport: transport)
        try expectEvents(try subscriber.waitForMessages(history.count), are: history)
        try expectEvents(try devices.waitForMessages(2), are: history.filter { $0.type == "device" })

        try harness.admin("set", "user.live", "1")
        let all = try harness.guestVisibleJournal()
        try expectEvents(try subscriber.waitForMessages(all.count), are: all)
    }

    @Test func sinceNowStartsLiveWithIDs() throws {
        let harness = try EventsHarness("--config", "user.old=1")
        let subscriber = try harness.subscribe("since=now")

        try harness.admin("set", "user.new", "1")

        let live = try #require(try harness.guestVisibleJournal().last)
        try expectEvents(try subscriber.waitForMessages(1), are: [live])
    }

    @Test func resumeAfterACrashGetsExactlyTheMissedChanges() throws {
        let harness = try EventsHarness("--config", "user.before=1")
        let first = try harness.subscribe("since=0")
        let lastSeen = try #require(GuestEvent.id(try first.waitForMessages(1)[0]))

        try harness.daemon.crash()
        try first.waitUntil("the end of the stream") { $0.closed != nil }
        // While nobody serves: 100 guest-visible changes, with silent ones in between.
        let missed = numberedKeys("r", 100)
        try harness.setEach(
            missed.enumerated().flatMap { index, pair -> [(key: String, value: String)] in
                index % 10 == 0 ? [(key: "cloud-init.vendor-data", value: "v\(index)"), pair] : [pair]
            })
        try harness.daemon.restart()

        let resumed = try harness.subscribe("since=\(lastSeen)")
        let replayed = try resumed.waitForMessages(100)
        try expectEvents(replayed, are: try harness.guestVisibleJournal().filter { $0.id > lastSeen })
        #expect(
            try replayed.map { try GuestEvent.parse($0)["metadata"] }
                == missed.map { ["key": .string($0.key), "old_value": "", "value": .string($0.value)] })
        // And live after the seam, nothing sent twice.
        try harness.admin("set", "user.after", "1")
        try expectEvents(try resumed.waitForMessages(101), are: try harness.guestVisibleJournal().filter { $0.id > lastSeen })
    }

    /// Changes made while a long replay is still being written, some more than a subscriber may
    /// hold in memory, each arrive once: ids strictly increasing, every one of the journal's.
    @Test func changesDuringAReplayArriveExactlyOnce() throws {
        let harness = try EventsHarness()
        // 5,000 entries, 2 MB of events: far more than socket buffers hold, so a client that
        // reads nothing keeps the daemon replaying for as long as it likes.
        let padding = String(repeating: "x", count: 256)
        var config = Dictionary(uniqueKeysWithValues: numberedKeys("k", 5000, value: padding))
        try harness.apply(config: config)
        let subscriber = try harness.subscribe("since=0", holding: true)

        let during = numberedKeys("during", 20)
        try harness.setEach(during)
        // Then one commit of 1,500 more: beyond what the subscriber holds while it replays.
        for (key, value) in during + numberedKeys("k", 1500, value: "changed") { config[key] = value }
        try harness.apply(config: config)
        #expect(subscriber.messages.isEmpty, "the client held off reading")
        subscriber.release()

        let journal = try harness.guestVisibleJournalIDs()
        #expect(journal.count == 5000 + 20 + 1500)
        let ids = try subscriber.waitForMessages(journal.count, timeout: .seconds(60)).map(GuestEvent.id)
        #expect(zip(ids, ids.dropFirst()).allSatisfy { ($0 ?? 0) < ($1 ?? 0) }, "strictly increasing")
        #expect(Set(ids).count == ids.count, "no duplicates")
        #expect(ids == journal, "every id of the instance's journal")
    }

    @Test func prunedSinceIs410BeforeAnyUpgrade() throws {
        let harness = try EventsHarness()
        try harness.apply(config: Dictionary(uniqueKeysWithValues: numberedKeys("k", 30)))
        try harness.cli.succeed("journal", "prune", "--keep", "10")
        let last = try #require(try harness.cli.journal().last?.id)

        #expect(try harness.subscribe("since=1").received.status == 410)
        #expect(try harness.subscribe("since=\(last - 11)").received.status == 410)
        let stream = try harness.subscribe("since=1", transport: .stream)
        let response = try #require(stream.received.response)
        #expect(response.status == 410)
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")

        // The oldest replayable start: every entry after it is still kept.
        let oldest = try harness.subscribe("since=\(last - 10)")
        try expectEvents(try oldest.waitForMessages(10), are: try harness.guestVisibleJournal())
    }
}
