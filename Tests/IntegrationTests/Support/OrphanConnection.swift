import Foundation
import Testing

/// A connection that outlives the process that made it: a python parent makes the socket, a
/// child connects it (so the daemon's peer is the child), optionally asks one request, and
/// exits; the parent reaps the child, so its pid number is free for the kernel to hand out
/// again, and goes on asking over the same connection when told.
///
/// Not Sendable: one test owns it.
final class OrphanConnection {
    /// The child's pid: the connection's peer, and free once this returns.
    let pid: Int32
    /// The answer to the child's own request, if it asked one.
    let first: Answer?
    private let folder: String
    private let process: RunningCommand?
    private let shellPID: Int32?
    private var asked = 0

    /// `in`: started in that guest's shell, so that the child descends from it; else from the test.
    init(socket: String, firstRequest: String? = nil, in guest: GuestProcess? = nil) throws {
        folder = NSTemporaryDirectory() + "guestapi-orphan-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let script = folder + "/orphan.py"
        try Data(Self.source.utf8).write(to: URL(fileURLWithPath: script))
        let arguments = ["/usr/bin/python3", script, socket, folder, firstRequest ?? ""]
        if let guest {
            let started = try guest.run(shellCommand(arguments) + " >\(folder)/out 2>\(folder)/err & echo $!")
            shellPID = Int32(started.text.trimmingCharacters(in: .whitespacesAndNewlines))
            process = nil
        } else {
            process = try Command(arguments[0], Array(arguments.dropFirst())).start()
            shellPID = nil
        }
        let pidText = try Self.waitForFile(folder + "/pid")
        pid = try #require(Int32(String(decoding: pidText, as: UTF8.self)))
        let firstFile = folder + "/first"
        first = try firstRequest.flatMap { _ in HTTPResponse(try Self.waitForFile(firstFile)) }.map(Answer.init)
    }

    deinit {
        process?.signal(SIGKILL)
        if let shellPID { kill(shellPID, SIGKILL) }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Sends `request` on the connection and returns the answer; nil if the daemon closed it instead.
    func ask(_ request: String) throws -> Answer? {
        asked += 1
        let path = folder + "/req-\(asked)"
        try Data(request.utf8).write(to: URL(fileURLWithPath: path + ".tmp"))
        rename(path + ".tmp", path)
        return HTTPResponse(try Self.waitForFile(folder + "/resp-\(asked)")).map(Answer.init)
    }

    private static func waitForFile(_ path: String, timeout: TimeInterval = 30) throws -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: path) { return Array(data) }
            usleep(5_000)
        }
        throw EventSubscriberError.timedOut(what: "the orphan connection's \(path)", received: "")
    }

    private static let source = #"""
        import os, socket, sys, time

        path, folder, first = sys.argv[1], sys.argv[2], sys.argv[3].encode()

        def put(name, data):
            with open(folder + "/" + name + ".tmp", "wb") as f:
                f.write(data)
            os.rename(folder + "/" + name + ".tmp", folder + "/" + name)

        def answer(s, request):
            s.sendall(request)
            buf = b""
            while True:
                if b"\r\n\r\n" in buf:
                    head, body = buf.split(b"\r\n\r\n", 1)
                    lengths = [int(l.split(b":", 1)[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                    if lengths and len(body) >= lengths[0]:
                        return buf
                chunk = s.recv(65536)
                if not chunk:
                    return buf
                buf += chunk

        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        child = os.fork()
        if child == 0:
            s.connect(path)
            if first:
                put("first", answer(s, first))
            os._exit(0)
        os.waitpid(child, 0)
        put("pid", str(child).encode())
        n = 0
        while True:
            n += 1
            request = folder + "/req-%d" % n
            while not os.path.exists(request):
                time.sleep(0.005)
            try:
                reply = answer(s, open(request, "rb").read())
            except OSError:
                reply = b""
            put("resp-%d" % n, reply)
        """#
}
