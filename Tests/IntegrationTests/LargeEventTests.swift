import Foundation
import GuestJSON
import GuestStore
import Testing

/// Events about large values (README, "Events and replay"): sent in pieces, read from the
/// journal and escaped as they go, yet byte for byte the event a small value's would be, over
/// WebSocket (one message in fragments), a chunked stream and HTTP/1.0; replayed and live.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct LargeEventTests {
    /// Bytes with every kind of trouble for JSON: quotes, backslashes, control bytes, NULs,
    /// multibyte characters cut across 64 KiB pieces, invalid UTF-8.
    static func value(_ size: Int, seed: UInt8) -> [UInt8] {
        let motif: [UInt8] = [
            0x22, 0x5c, 0x00, 0x0a, 0x41 &+ seed, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0xe2,
            0x80, 0xa8, 0xed, 0xa0, 0x80, 0x7f, 0x01,
        ]
        return (0..<size).map { motif[($0 &* 7 &+ Int(seed)) % motif.count] }
    }

    /// The event a small value's change would be: what `JSONWriter` writes for the same entry,
    /// with the timestamp and id the daemon sent.
    static func expected(from line: String, old: [UInt8], new: [UInt8]) throws -> String {
        let timestamp = try #require(line.split(separator: "\"timestamp\":\"").dropFirst().first?.split(separator: "\"").first)
        var json = JSONWriter()
        json.raw("{\"type\":\"config\",\"timestamp\":\"")
        json.raw(Array(timestamp.utf8))
        json.raw("\",\"metadata\":{\"key\":\"user.big\",\"old_value\":")
        json.string(utf8: old)
        json.raw(",\"value\":")
        json.string(utf8: new)
        json.raw("}")
        if let id = line.split(separator: ",\"id\":").dropFirst().first?.dropLast(2) {
            json.raw(",\"id\":")
            json.raw(Array(id.utf8))
        }
        json.raw("}\n")
        return String(decoding: json.bytes, as: UTF8.self)
    }

    @Test func aLargeValuesEventsComeWholeOnEveryTransport() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1")
        let first = Self.value(300_001, seed: 1)
        let second = Self.value(200_003, seed: 2)
        let file = host.state.directory + "/value"
        try Data(first).write(to: URL(fileURLWithPath: file))
        try host.cli.succeed("set", "user.big", "--file", file)

        // Replayed (since=0) and live: the first change before they came, the second after.
        let subscribers = [
            try EventSubscriber(in: guest.process, socket: host.socket, query: "since=0"),
            try EventSubscriber(in: guest.process, socket: host.socket, query: "since=0", transport: .stream),
            try EventSubscriber(in: guest.process, socket: host.socket),
        ]
        let http10 = host.state.directory + "/http10"
        _ = try guest.process.run(
            "curl -s -N --http1.0 --unix-socket \(host.socket) 'http://guest/1.0/events?since=0' > \(http10) 2>&1 & echo $!")
        try Data(second).write(to: URL(fileURLWithPath: file))
        try host.cli.succeed("set", "user.big", "--file", file)
        try host.cli.succeed("set", "user.small", "after")

        for subscriber in subscribers {
            let messages = try subscriber.waitForMessage(containing: "user.small")
            let big = messages.filter { $0.contains("\"key\":\"user.big\"") }
            #expect(big.count == (subscriber.resource.contains("since") ? 2 : 1), "\(subscriber.transport) \(subscriber.resource)")
            for message in big {
                let isFirst = message.contains("\"old_value\":\"\"")
                let line = message.hasSuffix("\n") ? message : message + "\n"
                #expect(
                    line == (try Self.expected(from: line, old: isFirst ? [] : first, new: isFirst ? first : second)),
                    "\(subscriber.transport) \(subscriber.resource): not the event a small value's would be")
            }
        }
        let deadline = Date().addingTimeInterval(10)
        while !((try? String(contentsOfFile: http10, encoding: .utf8)) ?? "").contains("user.small"), Date() < deadline { usleep(10_000) }
        let lines = ((try? String(contentsOfFile: http10, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.contains("user.big") }
        #expect(lines.count == 2, "HTTP/1.0: \(lines.count) events about user.big")
        for line in lines {
            let text = String(line) + "\n"
            let isFirst = text.contains("\"old_value\":\"\"")
            #expect(text == (try Self.expected(from: text, old: isFirst ? [] : first, new: isFirst ? first : second)))
        }
    }
}
