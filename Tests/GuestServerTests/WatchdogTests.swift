import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import GuestServer

/// The watchdog pings only while every event loop answers and the journal tailer goes round:
/// systemd must restart a daemon that is stuck, not one that is merely alive.
@Suite("systemd watchdog")
struct WatchdogTests {
    /// A datagram socket bound where `NOTIFY_SOCKET` points, read without blocking.
    final class NotifySocket {
        let path = NSTemporaryDirectory() + "guestapi-notify-\(UUID().uuidString)"
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0)

        init() throws {
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8) }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        }

        deinit {
            close(descriptor)
            unlink(path)
        }

        /// The WATCHDOG=1 pings received so far.
        func pings() -> Int {
            var count = 0
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let received = recv(descriptor, &buffer, buffer.count, 0)
                guard received > 0 else { return count }
                if String(decoding: buffer.prefix(received), as: UTF8.self).hasPrefix("WATCHDOG=1") { count += 1 }
            }
        }

        /// Waits up to 10 s for a ping.
        func awaitPing() -> Bool {
            for _ in 0..<1_000 {
                if pings() > 0 { return true }
                usleep(10_000)
            }
            return false
        }
    }

    /// A watchdog over two event loops and a tailer whose rounds go on while `advancing`.
    final class Harness {
        let socket: NotifySocket
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let advancing = NIOLockedValueBox(true)
        private var watchdog: Watchdog?

        init() throws {
            socket = try NotifySocket()
            // WATCHDOG_USEC 40 ms: a round every 20 ms.
            let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "40000"]))
            let interval = try #require(notifier.watchdogInterval)
            #expect(interval == .milliseconds(20))
            let rounds = NIOLockedValueBox(0)
            watchdog = Watchdog(
                notifier: notifier, interval: interval, loops: group.makeIterator().map { $0 },
                rounds: { [advancing] in
                    rounds.withLockedValue { count in
                        if advancing.withLockedValue({ $0 }) { count += 1 }
                        return count
                    }
                }, status: { "testing" })
        }

        deinit {
            watchdog?.stop()
            try? group.syncShutdownGracefully()
        }

        /// Pings over half a second (25 rounds) once a stall took hold; a round begun before it
        /// may still end in a ping, so those of the first 200 ms are drained.
        func pingsWhileStalled() -> Int {
            usleep(200_000)
            _ = socket.pings()
            usleep(500_000)
            return socket.pings()
        }
    }

    @Test func aBlockedEventLoopStopsThePings() throws {
        let harness = try Harness()
        #expect(harness.socket.awaitPing(), "pings while all answer")

        let blocked = ConditionLock(value: true)
        harness.group.any().execute {
            blocked.lock(whenValue: false)
            blocked.unlock()
        }
        #expect(harness.pingsWhileStalled() == 0, "a ping while an event loop was blocked")

        blocked.lock()
        blocked.unlock(withValue: false)
        #expect(harness.socket.awaitPing(), "pings again once the loop answers")
    }

    @Test func aTailerStandingStillStopsThePings() throws {
        let harness = try Harness()
        #expect(harness.socket.awaitPing(), "pings while the tailer goes round")

        harness.advancing.withLockedValue { $0 = false }
        #expect(harness.pingsWhileStalled() == 0, "a ping while the tailer stood still")

        harness.advancing.withLockedValue { $0 = true }
        #expect(harness.socket.awaitPing(), "pings again once it goes round")
    }
}
