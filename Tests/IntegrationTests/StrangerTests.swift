import Foundation
import Testing

/// Callers no instance owns are answered by the acceptor itself (README, "How a caller is
/// recognized"): the same bytes the connection handler gives, no connection reset after them,
/// and a stranger that sends part of a request costs the acceptor nothing while it waits.
@Suite(.timeLimit(.minutes(3)))
struct StrangerTests {
    /// Sends the bytes of a file on a new connection; everything read until the end, and how
    /// the connection ended ("eof" or the error).
    static let exchange = #"""
        import socket, sys
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sys.argv[1])
        s.sendall(open(sys.argv[2], "rb").read())
        data, end = b"", "eof"
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk: break
                data += chunk
        except OSError as error:
            end = type(error).__name__
        sys.stdout.write(data.hex() + " " + end)
        """#

    static func exchange(_ socket: String, _ request: [UInt8], in process: GuestProcess? = nil) throws -> (answer: [UInt8], end: String) {
        let file = NSTemporaryDirectory() + "request-\(UUID().uuidString)"
        try Data(request).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let text: String
        if let process {
            text = try process.run(shellCommand(["/usr/bin/python3", "-c", Self.exchange, socket, file])).text
        } else {
            text = try Command("/usr/bin/python3", ["-c", Self.exchange, socket, file]).run().stdoutText
        }
        let parts = text.split(separator: " ")
        let bytes = stride(from: 0, to: parts.first?.count ?? 0, by: 2).compactMap { offset -> UInt8? in
            let start = parts[0].index(parts[0].startIndex, offsetBy: offset)
            return UInt8(parts[0][start..<parts[0].index(start, offsetBy: 2)], radix: 16)
        }
        return (bytes, parts.count > 1 ? String(parts[1]) : "none")
    }

    /// What a stranger gets is what the handler gives a registered caller for the same bytes,
    /// apart from who it is: the 404 or 4xx it earns first, else 500; then a clean end.
    @Test(arguments: [
        ("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", "404 page not found"),
        ("GET /1.0 HTTP/1.1\r\nHost: x\r\n\r\nGET /1.0 HTTP/1.1\r\nHost: x\r\n\r\n", "pid not in container?"),
        ("GET /1.0 HTTP/1.1\nHost: x\n\n", "malformed request"),
        ("GET /1.0 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "malformed request"),
        ("GET /1.0 HTTP/1.1\r\nX: " + String(repeating: "a", count: 17_000) + "\r\n\r\n", "request head too large"),
    ])
    func aStrangerGetsTheHandlersAnswerAndACleanEnd(request: String, message: String) throws {
        let host = try GuestHost()
        let (answer, end) = try Self.exchange(host.socket, Array(request.utf8))
        let text = String(decoding: answer, as: UTF8.self)
        #expect(text.hasSuffix("\r\n\r\n" + message + "\n"), "\(text)")
        #expect(text.components(separatedBy: "HTTP/1.1 ").count == 2, "one answer")
        #expect(end == "eof", "the connection ends cleanly, not reset")
    }

    /// A request too big for the acceptor to see whole (chunks over 80 KiB on the wire) is
    /// read by a loop, and answered as the handler answers a stranger (an instance's gets as
    /// far as its body).
    @Test func aLongChunkedRequestIsAnsweredAsForAnInstance() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1")
        var request = Array("PATCH /1.0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        for _ in 0..<20_000 { request += Array("1\r\na\r\n".utf8) }
        request += Array("0\r\n\r\n".utf8)
        let stranger = try Self.exchange(host.socket, request)
        let instance = try Self.exchange(host.socket, request, in: guest.process)
        #expect(String(decoding: instance.answer, as: UTF8.self).hasSuffix("\r\n\r\nInvalid request body\n"))
        #expect(String(decoding: stranger.answer, as: UTF8.self).hasSuffix("\r\n\r\npid not in container?\n"))
        #expect(stranger.end == "eof")
    }

    /// A stranger holding a partial request does not keep the acceptor busy: its thread takes
    /// a few ticks of CPU over 800 ms, not the whole core (80 ticks).
    @Test func aPartialRequestCostsTheAcceptorNothingWhileItWaits() throws {
        let host = try GuestHost()
        let hold = try Command(
            "/usr/bin/python3",
            [
                "-c",
                """
                import socket, sys, time
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sys.argv[1])
                s.sendall(b"GET /1.0 HTTP/1.1\\r\\nHost: x\\r\\n")
                time.sleep(1.2)
                """, host.socket,
            ]
        ).start()
        usleep(200_000)
        let before = try Self.acceptorTicks(host.daemon.pid)
        usleep(800_000)
        let spent = try Self.acceptorTicks(host.daemon.pid) - before
        _ = try hold.wait(timeout: .seconds(10))
        #expect(spent < 10, "the acceptor spent \(spent) ticks in 800 ms")
    }

    /// The CPU ticks (user and system) of the daemon's acceptor thread.
    static func acceptorTicks(_ pid: Int32) throws -> Int {
        for task in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") {
            guard (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8))?.hasPrefix("guestapi-accept") == true,
                let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8)
            else { continue }
            let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
            return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
        }
        throw CommandError.failed(CommandResult(command: "acceptor thread", status: 1, stdout: [], stderr: "not found"))
    }
}
