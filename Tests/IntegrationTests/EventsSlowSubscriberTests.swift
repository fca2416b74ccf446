import Foundation
import Testing

/// A subscriber that cannot keep up (README, "Events and replay"): once 1,000 events wait for it, the
/// daemon keeps no more for it (it reads the rest from the journal when the subscriber takes
/// what waits), and one that takes nothing for 5 s is cut off, without holding back anyone
/// else; with replay it resumes losing nothing.
@Suite("events: slow subscribers", .timeLimit(.minutes(3)))
struct EventsSlowSubscriberTests {
    @Test func aReaderThatNeverReadsIsCutOffOthersGetEverything() throws {
        let harness = try EventsHarness()
        let normal = try harness.subscribe()
        let stalled = try harness.subscribe("since=now", holding: true)

        // 3,000 changes in commits of 100, each small enough for a reader to keep pace with:
        // socket buffers take several hundred, so well over 1,000 wait for the stalled reader.
        let padding = String(repeating: "x", count: 256)
        for round in 1...30 {
            try harness.apply(config: Dictionary(uniqueKeysWithValues: (1...100).map { ("user.k\($0)", "\(round)-\(padding)") }))
        }
        let journal = try harness.guestVisibleJournal()
        try #require(journal.count == 3000)

        let received = try normal.waitForMessages(journal.count, timeout: .seconds(60))
        #expect(try received.map(GuestEvent.parse) == journal.map { $0.event(withID: false) })
        // 5 s without taking anything: cut off.
        try DaemonMetrics.wait(harness.host.state, "guestapi_event_streams_cut_total", atLeast: 1)

        stalled.release()
        let cut = try stalled.waitUntil("the end of the stream") { $0.closed != nil }
        #expect(cut.closed == .some(nil), "cut off without a close frame")
        #expect(cut.messages.count < journal.count)

        // With replay it resumes after the last event it got, losing nothing.
        let lastSeen = try #require(cut.messages.last.flatMap(GuestEvent.id))
        let resumed = try harness.subscribe("since=\(lastSeen)")
        let rest = journal.filter { $0.id > lastSeen }
        let ids = try resumed.waitForMessages(rest.count, timeout: .seconds(60)).map(GuestEvent.id)
        #expect(ids == rest.map(\.id))
    }
}

extension EventsSlowSubscriberTests {
    /// One commit of 2,500 events: more than may wait for a subscriber at once. A reader that
    /// keeps up gets every one, in order, live or from the journal, and is not cut off.
    @Test(arguments: [EventSubscriber.Transport.webSocket, .stream])
    func aBurstBiggerThanTheLimitReachesAReaderThatKeepsUp(transport: EventSubscriber.Transport) throws {
        let harness = try EventsHarness()
        let subscriber = try harness.subscribe(transport: transport)

        try harness.apply(config: Dictionary(uniqueKeysWithValues: (1...2_500).map { ("user.k\($0)", "burst-\($0)") }))

        let journal = try harness.guestVisibleJournal()
        let received = try subscriber.waitForMessages(journal.count, timeout: .seconds(60))
        #expect(try received.map(GuestEvent.parse) == journal.map { $0.event(withID: false) })
        #expect(subscriber.received.closed == nil, "cut off")
    }
}
