import Foundation
import Testing

/// Live events (README, "Events and replay"): what a change made by the admin CLI, a separate process,
/// sends to the guests of its instance, over WebSocket and over a plain stream.
@Suite("events: live delivery", .timeLimit(.minutes(3)))
struct EventsTests {
    /// Makes one last change and returns what `subscriber` received before it. Events come in
    /// journal order, so once the marker is in, anything sent for earlier changes is too.
    func messagesBeforeMarker(
        _ subscriber: EventSubscriber, _ harness: EventsHarness,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [String] {
        let marker = "user.marker-\(UUID().uuidString)"
        try harness.admin("set", marker, "1", sourceLocation: sourceLocation)
        return Array(try subscriber.waitForMessage(containing: marker).dropLast())
    }

    @Test func setByTheCLIIsExactlyOneIncusConfigEvent() throws {
        let harness = try EventsHarness("--config", "user.foo=bar")
        let subscriber = try harness.subscribe()
        #expect(subscriber.received.status == 101)

        try harness.admin("set", "user.foo", "baz")

        let messages = try messagesBeforeMarker(subscriber, harness)
        #expect(
            messages.map(GuestEvent.masked) == [
                #"{"type":"config","timestamp":"<timestamp>","metadata":{"key":"user.foo","old_value":"bar","value":"baz"}}"# + "\n"
            ])
        let journaled = try #require(try harness.guestVisibleJournal().last { $0.key == "user.foo" })
        #expect(try messages.first.map(GuestEvent.parse)?["timestamp"] == .string(journaled.timestamp))
    }

    @Test func newAndRemovedKeysHaveEmptyOldOrNewValues() throws {
        let harness = try EventsHarness()
        let subscriber = try harness.subscribe()

        try harness.admin("set", "user.new", "1")
        try harness.admin("unset", "user.new")

        let events = try messagesBeforeMarker(subscriber, harness).map(GuestEvent.parse)
        #expect(
            events.map { $0["metadata"] } == [
                ["key": "user.new", "old_value": "", "value": "1"],
                ["key": "user.new", "old_value": "1", "value": ""],
            ])
    }

    @Test func cloudInitSecurityAndVolatileChangesAreSilent() throws {
        let harness = try EventsHarness()
        let subscriber = try harness.subscribe()
        let before = try harness.cli.journal().count

        // cloud-init.user-data also makes volatile.cloud-init.instance-id anew.
        try harness.admin("set", "cloud-init.user-data", "#cloud-config")
        try harness.admin("set", "cloud-init.vendor-data", "#cloud-config")
        try harness.admin("set", "security.guestapi.images", "true")
        try harness.admin("unset", "cloud-init.vendor-data")
        try harness.admin("set", "limits.cpu", "2")

        #expect(try messagesBeforeMarker(subscriber, harness) == [])
        // Silent for guests, yet journaled for the host.
        let journaled = Set(try harness.cli.journal().dropFirst(before).compactMap(\.key))
        #expect(
            journaled.isSuperset(of: [
                "cloud-init.user-data", "cloud-init.vendor-data", "security.guestapi.images",
                "limits.cpu", "volatile.cloud-init.instance-id",
            ]), "journaled: \(journaled)")
    }

    @Test func deviceAddUpdateRemoveCarryTheirConfig() throws {
        let harness = try EventsHarness()
        let subscriber = try harness.subscribe()

        try harness.admin("device", "add", "mnt", "disk", "path=/mnt", "source=/srv")
        try harness.admin("device", "set", "mnt", "path=/data")
        try harness.admin("device", "remove", "mnt")

        let device = #"{"type":"device","timestamp":"<timestamp>","metadata":{"action":"#
        #expect(
            try messagesBeforeMarker(subscriber, harness).map(GuestEvent.masked) == [
                device + #""added","config":{"path":"/mnt","source":"/srv","type":"disk"},"name":"mnt"}}"# + "\n",
                device + #""updated","config":{"path":"/data","source":"/srv","type":"disk"},"name":"mnt"}}"# + "\n",
                device + #""removed","config":{"path":"/data","source":"/srv","type":"disk"},"name":"mnt"}}"# + "\n",
            ])
    }

    /// `type` picks kinds; empty means both; unknown names match nothing and are no error.
    @Test(arguments: [
        ("type=device", ["device"]),
        ("type=config", ["config"]),
        ("type=", ["config", "device"]),
        ("type=device,nonsense", ["device"]),
        ("type=nonsense", []),
    ])
    func typeFiltersKinds(query: String, kinds: [String]) throws {
        let harness = try EventsHarness()
        let everything = try harness.subscribe()
        let filtered = try harness.subscribe(query)
        #expect(filtered.received.status == 101)

        try harness.admin("set", "user.a", "1")
        try harness.admin("device", "add", "d1", "disk", "path=/mnt")
        try harness.admin("set", "user.b", "2")
        try harness.admin("device", "remove", "d1")

        let all = try everything.waitForMessages(4)
        let expected = all.filter { message in kinds.contains { message.hasPrefix(#"{"type":"\#($0)""#) } }
        // The stream's end is the marker (no event of a kind this filter takes may be one):
        // deleting the instance closes the stream after everything already sent on it.
        try harness.cli.succeed("instance", "delete", EventsHarness.instance)
        let received = try filtered.waitUntil("the close") { $0.closed != nil }
        #expect(received.messages == expected)
    }

    @Test func anotherInstancesChangesNeverArrive() throws {
        let harness = try EventsHarness()
        let subscriber = try harness.subscribe()
        let other = try harness.host.guest("c2")
        let otherSubscriber = try EventSubscriber(in: other.process, socket: harness.host.socket)

        try harness.admin("set", "user.foo", "for c2", instance: "c2")
        try harness.admin("device", "add", "d2", "disk", "path=/c2", instance: "c2")

        #expect(try messagesBeforeMarker(subscriber, harness) == [])
        #expect(try otherSubscriber.waitForMessages(2).map { try GuestEvent.parse($0)["type"] } == ["config", "device"])
    }

    @Test func plainStreamSendsTheSameLinesAsWebSocket() throws {
        let harness = try EventsHarness("--config", "user.foo=bar")
        let webSocket = try harness.subscribe()
        let stream = try harness.subscribe(transport: .stream)

        try harness.admin("set", "user.foo", "baz")
        try harness.admin("set", "cloud-init.user-data", "#cloud-config")
        try harness.admin("device", "add", "d1", "disk", "path=/mnt")
        try harness.admin("unset", "user.foo")

        let frames = try messagesBeforeMarker(webSocket, harness)
        #expect(frames.count == 3)
        #expect(try stream.waitForMessages(4).dropLast() == frames[...])
        let response = try #require(stream.received.response)
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.header("Transfer-Encoding")?.lowercased() == "chunked")
    }

    @Test func readyIsJournaledForTheHostButNotSentToGuests() throws {
        let harness = try EventsHarness()
        let subscriber = try harness.subscribe()

        let answer = try harness.guest.answer("/1.0", "-X", "PATCH", "--data", #"{"state":"Ready"}"#)
        #expect(answer.status == 200)

        #expect(try messagesBeforeMarker(subscriber, harness) == [])
        #expect(try harness.cli.journal("--type", "lifecycle").last?.action == "instance-ready")
    }

    @Test func shutdownClosesWebSocketsWith1001AndEndsStreams() throws {
        let harness = try EventsHarness()
        let webSocket = try harness.subscribe()
        let stream = try harness.subscribe(transport: .stream)

        #expect(try harness.daemon.stop().status == 0)

        let end = try webSocket.waitUntil("the close frame") { $0.closed != nil }
        #expect(end.closed == .some(1001), "close code (nil: no close frame)")
        try stream.waitUntil("the end of the stream") { $0.closed != nil }
    }

    /// HEAD has no stream to hold open: the connection is a plain keep-alive one again, which
    /// a stopping daemon closes at once instead of waiting out its 5 s drain.
    @Test func headOfEventsDoesNotHoldUpShutdown() throws {
        let harness = try EventsHarness()
        let pid = harness.daemon.pid
        // Run by the guest while its connection stays open: SIGTERM, then up to 2 s for the exit.
        let stopsQuickly = """
            kill -TERM \(pid)
            for i in $(seq 40); do
                state=$(cut -d' ' -f3 /proc/\(pid)/stat 2>/dev/null)
                if [ -z "$state" ] || [ "$state" = Z ]; then exit 0; fi
                sleep 0.05
            done
            exit 1
            """
        let replies = try harness.guest.session([.request("HEAD", "/1.0/events"), .run(["/bin/sh", "-c", stopsQuickly])])
        #expect(replies.first?.response?.status == 200)
        #expect(replies.last?.exit == 0, "guestapid took over 2 s to stop")
    }
}
