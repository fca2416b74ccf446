import Foundation
import Logging

/// Notices when the guest socket's path no longer names the daemon's socket (someone removed
/// it, or its folder), which would leave every new guest unable to connect with no word of
/// why; binds a new one there as soon as its folder exists, and hands it to the acceptor.
///
/// Not Sendable: the journal tailer's thread runs it, with the database watch.
final class SocketWatch {
    private let path: String
    private let backlog: Int32
    private let acceptor: Acceptor
    private let logger: Logger
    private var bound: ListeningSocket
    /// Said once until it is fixed.
    private var reported = false

    init(socket: ListeningSocket, path: String, backlog: Int32, acceptor: Acceptor, logger: Logger) {
        bound = socket
        self.path = path
        self.backlog = backlog
        self.acceptor = acceptor
        self.logger = logger
    }

    func check() {
        guard !bound.isBound(at: path) else { return }
        let folder = (path as NSString).deletingLastPathComponent
        do {
            guard FileManager.default.fileExists(atPath: folder) else {
                throw ServerError.refused("its folder \(folder) is gone; it is made again once the folder is back")
            }
            try StateLock.clearStaleSocket(path)
            let socket = try ListeningSocket(path: path, backlog: backlog)
            acceptor.replace(socket: socket)
            bound = socket
            reported = false
            logger.notice("guest socket \(path) was removed while guestapid ran; bound it again")
        } catch {
            guard !reported else { return }
            reported = true
            logger.error("guest socket \(path) was removed while guestapid ran and cannot be bound again: \(error)")
        }
    }
}
