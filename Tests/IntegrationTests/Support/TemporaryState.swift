import Foundation

/// A fresh guestapi state directory in the system temp folder, removed when the value goes away.
///
/// Not Sendable: one test owns it. Cleanups registered with `onCleanup` run first, newest first,
/// for what removing the folder cannot undo alone (an immutable attribute, a child process).
final class TemporaryState {
    let directory: String
    private var cleanups: [() -> Void] = []

    init() throws {
        var template = Array((NSTemporaryDirectory() + "guestapi-test-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        directory = String(cString: made)
    }

    deinit {
        for cleanup in cleanups.reversed() { cleanup() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    var database: String { directory + "/guestapi.db" }
    var images: String { directory + "/images" }
    var socket: String { directory + "/guestapi/sock" }

    /// Points guestapid or guestapi-admin at this state (after the subcommand, for the CLI).
    var arguments: [String] { ["--state-dir", directory] }

    /// The same through the environment, for commands run exactly as a user types them.
    var environment: [String: String] { ["GUESTAPI_STATE_DIR": directory] }

    func onCleanup(_ body: @escaping () -> Void) { cleanups.append(body) }

    /// Makes `path` impossible to write even for root (`chattr +i`), until cleanup.
    func makeImmutable(_ path: String) throws {
        try Command("/usr/bin/chattr", ["+i", path]).run().requireSuccess()
        onCleanup { _ = try? Command("/usr/bin/chattr", ["-i", path]).run() }
    }
}
