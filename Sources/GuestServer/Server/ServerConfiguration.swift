import GuestStore
import NIOCore

/// How a guestapid is set up; defaults are the README's.
public struct ServerConfiguration: Sendable {
    public var paths: StatePaths
    public var maxConnectionsPerInstance = 256
    public var threads = System.coreCount
    /// Reported as `location` in `GET /1.0`.
    public var location: String
    public var listenBacklog: Int32 = 4096

    public init(paths: StatePaths, location: String) {
        self.paths = paths
        self.location = location
    }
}
