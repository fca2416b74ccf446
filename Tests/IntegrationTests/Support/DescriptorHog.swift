import Foundation
import Testing

/// A stranger that connects to the daemon until the daemon has no descriptor left (its count
/// in /proc reaches `limit`, or stops growing), holds them all, and gives one back when told.
///
/// Not Sendable: one test owns it.
final class DescriptorHog {
    private let folder: String
    private let process: RunningCommand

    init(socket: String, daemon: Int32, limit: Int) throws {
        folder = NSTemporaryDirectory() + "guestapi-hog-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        process = try Command("/usr/bin/python3", ["-c", Self.source, socket, String(daemon), String(limit), folder]).start()
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: folder + "/full") {
            guard Date() < deadline, process.isRunning else {
                throw EventSubscriberError.timedOut(what: "the daemon to run out of descriptors", received: process.stderrSoFar)
            }
            usleep(10_000)
        }
    }

    deinit {
        process.signal(SIGKILL)
        try? FileManager.default.removeItem(atPath: folder)
    }

    func giveBackOne() {
        #expect(FileManager.default.createFile(atPath: folder + "/give", contents: nil))
    }

    private static let source = #"""
        import os, socket, sys, time
        path, daemon, limit, folder = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

        def descriptors():
            return len(os.listdir("/proc/%s/fd" % daemon))

        held, last, still = [], -1, 0
        while descriptors() < limit and still < 20:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            held.append(s)
            time.sleep(0.01)
            now = descriptors()
            still = still + 1 if now == last else 0
            last = now
        open(folder + "/full", "w").close()
        while not os.path.exists(folder + "/give"):
            time.sleep(0.005)
        held.pop(0).close()
        time.sleep(3600)
        """#
}
