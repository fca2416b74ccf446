import Foundation

/// Where guestapi keeps its files (SPEC.md section 1): flag, then environment, then default.
public struct StatePaths: Sendable {
    public let stateDirectory: String
    public let database: String
    public let socket: String

    public var images: String { stateDirectory + "/images" }
    public var lockFile: String { stateDirectory + "/guestapid.lock" }

    public init(
        stateDirectory: String? = nil, database: String? = nil, socket: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        let state = stateDirectory ?? environment["GUESTAPI_STATE_DIR"] ?? Self.defaultStateDirectory(environment)
        self.stateDirectory = state
        self.database = database ?? environment["GUESTAPI_DB"] ?? state + "/guestapi.db"
        self.socket = socket ?? state + "/guestapi/sock"
    }

    static func defaultStateDirectory(_ environment: [String: String]) -> String {
        if geteuid() == 0 { return "/var/lib/guestapi" }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/guestapi" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/guestapi"
    }

    /// Creates the state, image, database and (optionally) socket folders that are missing.
    public func createDirectories(socket includeSocket: Bool) throws {
        var folders = [stateDirectory, images, (database as NSString).deletingLastPathComponent]
        if includeSocket { folders.append((socket as NSString).deletingLastPathComponent) }
        for folder in folders where !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw StoreError.io("cannot create folder \(folder): \(error.localizedDescription)")
            }
        }
    }
}
