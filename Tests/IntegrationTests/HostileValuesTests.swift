import Foundation
import Testing

/// Values are never interpreted (README, "What a guest sees" and "Admin CLI"): keys with quotes, SQL and URL
/// syntax, values with NUL bytes, invalid UTF-8 or a mebibyte of data, set with
/// `guestapi-admin set KEY --file PATH`, come back byte for byte from `GET /1.0/config/{key}`.
@Suite(.timeLimit(.minutes(3))) struct HostileValuesTests {
    /// Keys that SQL, a shell, a URL or JSON would read as syntax; all valid keys.
    static let keys = [
        "user.quote'single", #"user.quote"double"#, "user.';DROP_TABLE_config;--", #"user.back\slash"#, "user.100%",
        "user.a?b=c", "user.a#b", "user.a&b", "user.a;b", "user.<tag>", "user.$(id)", "user.`id`", "user.{json}",
        "user.*glob*", "user.[x]", "user.a+b", "user.%00", "user.%2F..%2F", "user.." + String(repeating: "k", count: 250),
    ]

    /// Values no layer may change.
    static let values: [(name: String, bytes: [UInt8])] = [
        ("sql", Array("'; DROP TABLE config; --".utf8)),
        ("quotes", Array(#"it's "quoted" `twice`"#.utf8)),
        ("nul bytes", [0x61, 0x00, 0x62, 0x00, 0x00, 0x63, 0x00]),
        ("only a nul", [0x00]),
        ("invalid utf-8", [0xff, 0xfe, 0x80, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0x61]),
        ("crlf and controls", Array("line1\r\nline2\r\n\u{1b}[2J\u{7f}\t".utf8)),
        ("json", Array(#"{"state":"Ready","a":[1,2]}"#.utf8)),
        ("percent escapes", Array("%00%2F%ff%zz".utf8)),
        ("one mebibyte", (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }),
    ]

    /// `%XX` for every byte outside the URL's unreserved set.
    static func percentEncoded(_ key: String) -> String {
        key.utf8.map { byte in
            let unreserved =
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "-._~".utf8.contains(byte)
            return unreserved ? String(UnicodeScalar(byte)) : String(format: "%%%02X", byte)
        }.joined()
    }

    /// The body of `GET path` as the guest's curl saved it (`-o`), exactly; the path as it is
    /// (`--globoff`: `[x]` and `{json}` are not curl patterns).
    static func fetch(_ guest: Guest, _ path: String) throws -> (status: String, body: [UInt8]) {
        let file = guest.host.state.directory + "/fetched-\(UUID().uuidString)"
        let output = try guest.process.run(
            shellCommand([
                "curl", "-s", "--globoff", "--max-time", "10", "--unix-socket", guest.host.socket,
                "-o", file, "-w", "%{http_code}", "http://guest" + path,
            ]))
        defer { try? FileManager.default.removeItem(atPath: file) }
        return (output.text, Array(FileManager.default.contents(atPath: file) ?? Data()))
    }

    @Test func everyValueComesBackByteForByte() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1")
        for (index, value) in Self.values.enumerated() {
            let file = host.state.directory + "/value-\(index)"
            try Data(value.bytes).write(to: URL(fileURLWithPath: file))
            try host.cli.succeed("set", "user.v\(index)", "--file", file)
            let fetched = try Self.fetch(guest, "/1.0/config/user.v\(index)")
            #expect(fetched.status == "200", "\(value.name)")
            #expect(fetched.body == value.bytes, "\(value.name): \(fetched.body.count) bytes came back for \(value.bytes.count)")
        }
    }

    @Test func everyKeyComesBackWithItsValueAndNothingElse() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.secret=not-this")
        var values: [String: [UInt8]] = ["user.secret": Array("not-this".utf8)]
        for (index, key) in Self.keys.enumerated() {
            let file = host.state.directory + "/key-\(index)"
            let value = Array("value of \(key)\u{0}\(index)".utf8)
            values[key] = value
            try Data(value).write(to: URL(fileURLWithPath: file))
            try host.cli.succeed("set", key, "--file", file)
            let fetched = try Self.fetch(guest, "/1.0/config/" + Self.percentEncoded(key))
            #expect(
                fetched.status == "200" && fetched.body == value,
                "\(key): \(fetched.status) \(String(decoding: fetched.body, as: UTF8.self))")
        }
        // The list names each key as Incus does (JSON-escaped), but for `%`, `?` and `#`, which
        // are escaped so that the path decodes to the key; and the table it was read from is whole.
        let list = try JSONDecoder().decode([String].self, from: Data(try guest.answer("/1.0/config").body))
        let escaped = { (key: String) in
            key.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "?", with: "%3F").replacingOccurrences(
                of: "#", with: "%23")
        }
        let sorted = values.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        #expect(list == sorted.map { "/1.0/config/" + escaped($0) })
        // Every listed path, fetched as it is, gives its key's value.
        for (path, key) in zip(list, sorted) {
            let fetched = try Self.fetch(guest, path)
            #expect(
                fetched.status == "200" && fetched.body == values[key],
                "\(path): \(fetched.status) \(String(decoding: fetched.body, as: UTF8.self))")
        }
    }

    /// A key or fingerprint cut short by a NUL names nothing: SQLite would read `user.secret%00x`
    /// as `user.secret` if it were asked.
    @Test(arguments: ["/1.0/config/user.secret%00", "/1.0/config/user.secret%00x", "/1.0/config/user.secret%00.txt"])
    func aNulNeverCutsAKeyShort(path: String) throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "user.secret=s3cret")
        #expect(try guest.answer(path) == .notFound)
    }

    @Test func aNulNeverCutsAFingerprintShort() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "security.guestapi.images=true")
        let image = try GuestAPIImageTests.importImage(host, isPublic: true)
        let answer = try guest.answer("/1.0/images/\(image.fingerprint)%00.tar/export")
        #expect(answer.status == 404, "\(answer)")
        #expect(try guest.answer("/1.0/images/\(image.fingerprint)/export").status == 200)
    }
}
