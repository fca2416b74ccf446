import Foundation
import Testing

/// Large values (README, "Large values"): sent in pieces from the database as the peer reads,
/// byte-exact whatever the HTTP version, keep-alive, range or HEAD; one committed value, never
/// a mix of two; and no writer stores one over the maximum value size.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct LargeValueTests {
    static let size = 8 << 20

    /// Bytes that differ everywhere from another seed's, so that a mix would show.
    static func value(seed: UInt64, size: Int = size) -> [UInt8] {
        var state = seed
        return (0..<size).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }

    /// A host with instance c1 holding `user.big` (8 MiB), its bytes in `big` in the state folder.
    static func stage() throws -> (host: GuestHost, guest: Guest, file: String) {
        let host = try GuestHost()
        let guest = try host.guest("c1")
        let file = host.state.directory + "/big"
        try Data(value(seed: 1)).write(to: URL(fileURLWithPath: file))
        try host.cli.succeed("set", "user.big", "--file", file)
        return (host, guest, file)
    }

    /// Runs a shell command in the guest; its stdout, which must end with "ok".
    func check(_ guest: Guest, _ command: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let output = try guest.process.run(command, timeout: 60)
        #expect(output.text.hasSuffix("ok\n"), "\(command): \(output.text) \(output.stderr)", sourceLocation: sourceLocation)
    }

    @Test func anEightMebibyteValueComesWholeInEveryForm() throws {
        let (host, guest, file) = try Self.stage()
        let curl = "curl -s --max-time 30 --unix-socket \(host.socket)"
        let url = "http://guest/1.0/config/user.big"
        let info = "http://guest/1.0"
        let out = host.state.directory
        // HTTP/1.1 kept alive: the value, then another request on the same connection.
        try check(
            guest,
            "\(curl) \(url) \(info) -o \(out)/a -o \(out)/b -w '%{num_connects} ' && cmp \(out)/a \(file) && grep -q Started \(out)/b && echo ok"
        )
        let reused = try guest.process.run("\(curl) \(url) \(info) -o /dev/null -o /dev/null -w '%{num_connects} '").text
        #expect(reused == "1 0 ", "the second request went on the same connection")
        // HTTP/1.1 closing, HTTP/1.0 closing and kept alive.
        try check(guest, "\(curl) -H 'Connection: close' \(url) -o \(out)/c && cmp \(out)/c \(file) && echo ok")
        try check(guest, "\(curl) --http1.0 \(url) -o \(out)/d && cmp \(out)/d \(file) && echo ok")
        let http10 = try guest.process.run(
            "\(curl) --http1.0 -H 'Connection: keep-alive' \(url) \(url) -o \(out)/e -o \(out)/f -w '%{num_connects} '")
        #expect(http10.text == "1 0 ")
        try check(guest, "cmp \(out)/e \(file) && cmp \(out)/f \(file) && echo ok")
        // A range, and the last bytes.
        try check(
            guest,
            "\(curl) -r 1000-2999999 \(url) -o \(out)/g -w '%{http_code}' | grep -q 206 && tail -c +1001 \(file) | head -c 2999000 | cmp - \(out)/g && echo ok"
        )
        try check(guest, "\(curl) -r -100 \(url) -o \(out)/h && tail -c 100 \(file) | cmp - \(out)/h && echo ok")
        // HEAD: the length, no body.
        let head = try guest.request("/1.0/config/user.big", "-I")
        #expect(head.status == 200 && head.header("Content-Length") == String(Self.size) && head.body.isEmpty)
        // meta-data carries user.meta-data as it is, however large.
        try host.cli.succeed("set", "user.meta-data", "--file", file)
        try check(
            guest,
            "\(curl) http://guest/1.0/meta-data -o \(out)/m && tail -c \(Self.size) \(out)/m | cmp - \(file) && head -1 \(out)/m | grep -q '#cloud-config' && echo ok"
        )
    }

    /// Replaced again and again while it is read (every other read slowly, over a second):
    /// each answer is whole and one of the two values, read in one snapshot: never a mix.
    @Test func aValueReadWhileReplacedIsNeverAMix() throws {
        let (host, guest, first) = try Self.stage()
        let second = host.state.directory + "/big2"
        try Data(Self.value(seed: 2)).write(to: URL(fileURLWithPath: second))
        let set = { (file: String) in shellCommand(host.adminCommand("set", "user.big", "--file", file)) + " && sleep 0.15" }
        let replacer = try Command("/bin/sh", ["-c", "for i in $(seq 10); do \(set(second)) && \(set(first)) || exit 1; done"]).start()
        let out = host.state.directory
        let script = """
            a=0; b=0; other=0; i=0
            while [ $i -lt 12 ]; do
              rate=$([ $((i % 2)) -eq 0 ] && echo 8M || echo 1G)
              curl -s --max-time 30 --limit-rate $rate --unix-socket \(host.socket) http://guest/1.0/config/user.big -o \(out)/r
              if cmp -s \(out)/r \(first); then a=$((a+1)); elif cmp -s \(out)/r \(second); then b=$((b+1)); else other=$((other+1)); fi
              i=$((i+1))
            done
            echo "first=$a second=$b other=$other"
            """
        let output = try guest.process.run(script, timeout: 120)
        #expect(try replacer.wait(timeout: .seconds(60)).status == 0)
        print("LargeValueTests: replaced while read: \(output.text)")
        #expect(output.text.hasSuffix("other=0\n"), "an answer was neither value whole: \(output.text)")
        #expect(!output.text.contains("first=0 ") && !output.text.contains("second=0 "), "both values were read: \(output.text)")
    }

    /// Pipelined requests for large and small values, on more connections than an instance has
    /// readers (so some wait for one): every answer whole, in order, nothing of the next in it.
    @Test func pipelinedLargeValuesComeWholeAndInOrder() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1")
        let sizes = ["user.k1": 200_000, "user.k2": 300_001, "user.k3": 65_537, "user.k4": 1_000]
        for (key, size) in sizes {
            let file = host.state.directory + "/" + key
            try Data(repeating: key.utf8.last!, count: size).write(to: URL(fileURLWithPath: file))
            try host.cli.succeed("set", key, "--file", file)
        }
        let script = #"""
            import socket, sys, threading
            path, keys = sys.argv[1], ["user.k1", "user.k2", "user.k3", "user.k4", "user.k3"] * 30
            sizes = {"user.k1": 200000, "user.k2": 300001, "user.k3": 65537, "user.k4": 1000}
            bad = []
            def connection():
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
                s.connect(path)
                s.sendall(b"".join(b"GET /1.0/config/%s HTTP/1.1\r\nHost: x\r\n\r\n" % k.encode() for k in keys))
                data = b""
                for k in keys:
                    while b"\r\n\r\n" not in data: data += s.recv(65536)
                    head, data = data.split(b"\r\n\r\n", 1)
                    length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
                    while len(data) < length: data += s.recv(65536)
                    body, data = data[:length], data[length:]
                    if body != k[-1:].encode() * sizes[k]: bad.append(k)
            threads = [threading.Thread(target=connection) for _ in range(8)]
            for t in threads: t.start()
            for t in threads: t.join()
            print("bad", len(bad)) if bad else print("ok")
            """#
        let output = try guest.process.run(shellCommand(["/usr/bin/python3", "-c", script, host.socket]), timeout: 120)
        #expect(output.text == "ok\n", "\(output.text) \(output.stderr)")
    }

    /// Every writer holds to the maximum value size, with one line naming the key, and
    /// changes nothing.
    @Test func aValueOverTheMaximumIsRefusedByEveryWriter() throws {
        let host = try GuestHost()
        let cli = host.cli
        try cli.succeed("instance", "create", "c1")
        try cli.succeed("settings", "set", "max-value-size", "64KiB")
        #expect(
            try cli.succeed("settings", "list").split(separator: "\n").contains {
                $0.split(separator: " ") == ["max-value-size", "65536", "yes"]
            })
        let large = String(repeating: "x", count: (64 << 10) + 1)
        let file = host.state.directory + "/large"
        try large.write(toFile: file, atomically: true, encoding: .utf8)
        let before = try cli.journal().count
        let message = "guestapi-admin: value of \"user.big\" is "
        for arguments in [
            ["set", "user.big", large], ["set", "user.big", "--file", file], ["instance", "create", "c2", "--config", "user.big=" + large],
        ] {
            let result = try cli.run(arguments)
            #expect(
                result.status == 1 && result.stderr.hasPrefix(message)
                    && result.stderr.hasSuffix("maximum value size, 65536 bytes (guestapi-admin settings set max-value-size)\n"),
                "\(arguments.prefix(2)): \(result.stderr)")
        }
        let fromStdin = try cli.run(["set", "user.big", "--file", "-"], stdin: Array(large.utf8))
        #expect(fromStdin.status == 1 && fromStdin.stderr.hasPrefix(message), "\(fromStdin.stderr)")
        let apply = try cli.run(
            ["apply", "-"], stdin: Array(#"{"instances": [{"name": "c1", "config": {"user.big": "\#(large)"}}]}"#.utf8))
        #expect(apply.status == 1 && apply.stderr.hasPrefix(message), "\(apply.stderr)")
        #expect(try cli.journal().count == before, "nothing changed")

        // A hook leaves it out and registers the rest.
        let container = try host.stranger(wrapper: ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc"])
        let warning = try HookTenantTests.hook(
            cli, id: "c3", pid: container.process.shellPID,
            annotations: [
                "org.linuxcontainers.guestapi.config.user.big": large, "org.linuxcontainers.guestapi.config.user.small": "1",
            ])
        #expect(warning.contains("ignored annotations \"org.linuxcontainers.guestapi.config.user.big\""), "\(warning)")
        #expect(try cli.show("c3").config["user.big"] == nil && cli.show("c3").config["user.small"] == "1")

        // The maximum itself is bounded, and a value at it is stored.
        #expect(try cli.run(["settings", "set", "max-value-size", "1"]).status == 64)
        try cli.succeed("set", "user.big", String(large.dropLast()), "--instance", "c1")
        try cli.succeed("settings", "unset", "max-value-size")
        try cli.succeed("set", "user.big", large, "--instance", "c1")
    }
}
