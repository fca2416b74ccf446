import Foundation

/// Where guestapi keeps its files (README, "Files"): flag, then environment, then default.
public struct StatePaths: Sendable {
    public let stateDirectory: String
    public let database: String
    public let socket: String
    /// Neither a flag nor the environment named the state: it is the user's default one.
    public let isDefault: Bool

    /// The state folder of root's daemon.
    public static let rootStateDirectory = "/var/lib/guestapi"

    public var images: String { stateDirectory + "/images" }
    /// The operator's socket: health, metrics, status.
    public var adminSocket: String { adminSocketOverride ?? stateDirectory + "/admin.sock" }
    public var adminSocketOverride: String?
    public var lockFile: String { stateDirectory + "/guestapid.lock" }

    public init(
        stateDirectory: String? = nil, database: String? = nil, socket: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        let named = stateDirectory ?? environment["GUESTAPI_STATE_DIR"]
        let state = named ?? Self.defaultStateDirectory(environment)
        self.stateDirectory = state
        isDefault = named == nil && database == nil && environment["GUESTAPI_DB"] == nil
        self.database = database ?? environment["GUESTAPI_DB"] ?? state + "/guestapi.db"
        self.socket = socket ?? state + "/guestapi/sock"
    }

    static func defaultStateDirectory(_ environment: [String: String]) -> String {
        if geteuid() == 0 { return rootStateDirectory }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/guestapi" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/guestapi"
    }

    /// Creates the folders that are missing, with the modes of the README's "Files": the state folder 0711 (the
    /// socket's folder inside it must be reachable), the database's and the images' 0700, the
    /// socket's 0755. As root, a folder that another user owns or may write is refused: whoever
    /// can write there could put a link where root is about to write.
    public func createDirectories(socket includeSocket: Bool) throws {
        let databaseFolder = (database as NSString).deletingLastPathComponent
        var folders: [(String, mode_t)] = [(stateDirectory, 0o711), (images, 0o700)]
        if !databaseFolder.isEmpty && databaseFolder != stateDirectory { folders.append((databaseFolder, 0o700)) }
        if includeSocket { folders.append(((socket as NSString).deletingLastPathComponent, 0o755)) }
        for (folder, mode) in folders {
            try Self.makeFolder(folder, mode: mode)
            try Self.checkOwner(folder)
        }
    }

    /// Whether the database is there (a state to read).
    public var exists: Bool { access(database, F_OK) == 0 }

    /// Throws unless the state folder and the database exist: commands that only read, or
    /// change what is there, never make a state (a mistyped `--state-dir` would get an empty one).
    public func checkExisting() throws {
        var isFolder: ObjCBool = false
        let missing: String
        if !FileManager.default.fileExists(atPath: stateDirectory, isDirectory: &isFolder) || !isFolder.boolValue {
            missing = "no guestapi state at \(stateDirectory) (no such folder)"
        } else if access(database, F_OK) != 0 {
            missing =
                access(stateDirectory, X_OK) != 0 && errno == EACCES
                ? "permission denied: \(stateDirectory) (run as root, or as the user who owns it)"
                : "no guestapi database at \(database)"
        } else {
            return
        }
        // A user's own empty state beside root's: they most likely meant root's.
        if isDefault && geteuid() != 0 && FileManager.default.fileExists(atPath: Self.rootStateDirectory) {
            throw StoreError.io(
                missing + "; the daemon's state is \(Self.rootStateDirectory): run as root, or give --state-dir \(Self.rootStateDirectory)")
        }
        throw StoreError.io(missing + ": create an instance first (guestapi-admin instance create), or give --state-dir")
    }

    /// Makes `path` (and missing parents, 0755) with `mode`, whatever the umask; an existing
    /// folder keeps its mode. `parentsMade`: its parents were just made (a file system that
    /// still says ENOENT, such as /proc, is not tried again).
    static func makeFolder(_ path: String, mode: mode_t, parentsMade: Bool = false) throws {
        if mkdir(path, mode) == 0 {
            chmod(path, mode)
            return
        }
        switch errno {
        case EEXIST:
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
                throw StoreError.io("cannot create folder \(path): a file of that name is in the way")
            }
        case ENOENT:
            let parent = (path as NSString).deletingLastPathComponent
            guard !parent.isEmpty, parent != path, !parentsMade else { fallthrough }
            try makeFolder(parent, mode: 0o755)
            try makeFolder(path, mode: mode, parentsMade: true)
        default:
            throw StoreError.io("cannot create folder \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// As root: refuses a folder owned by another user, or that others may write.
    static func checkOwner(_ folder: String) throws {
        guard geteuid() == 0 else { return }
        var st = stat()
        guard stat(folder, &st) == 0 else { return }
        if st.st_uid != 0 {
            throw StoreError.io(
                "folder \(folder) belongs to uid \(st.st_uid), not root: "
                    + "refusing to keep root's state there (chown root it, or choose another)"
            )
        }
        if st.st_mode & 0o022 != 0 {
            throw StoreError.io(
                "folder \(folder) may be written by others (mode \(String(st.st_mode & 0o7777, radix: 8))): "
                    + "refusing to keep root's state there (chmod go-w it)"
            )
        }
    }

    /// Makes the database and its WAL and shared-memory files readable by their owner only,
    /// where another mode was left (a database made by an older guestapi was 0644): they hold
    /// every instance's config. Returns the files it changed.
    public func restrictDatabaseFiles() -> [String] {
        [database, database + "-wal", database + "-shm"].filter { file in
            var st = stat()
            guard lstat(file, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_uid == geteuid(), st.st_mode & 0o077 != 0 else {
                return false
            }
            return chmod(file, 0o600) == 0
        }
    }
}
