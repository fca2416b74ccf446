import Foundation

/// A small tmpfs: a disk that fills up. Needs root (CAP_SYS_ADMIN).
enum TmpfsMount {
    /// Whether mounting works here: tried once, on a folder of its own.
    static let available: Bool = {
        guard let folder = try? TemporaryState() else { return false }
        guard (try? mount(on: folder, size: "64k")) != nil else { return false }
        return true
    }()

    /// Mounts a tmpfs of `size` on the state folder, unmounted (lazily: a process may still hold a file) at cleanup.
    static func mount(on state: TemporaryState, size: String) throws {
        let directory = state.directory  // not `state`: the cleanup must not keep it alive
        try Command("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size),mode=0711", "tmpfs", directory]).run().requireSuccess()
        state.onCleanup { _ = try? Command("/bin/umount", ["-l", directory]).run() }
    }

    /// Writes `path` until the file system is full.
    static func fill(_ path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let file = FileHandle(forWritingAtPath: path) else { throw POSIXError(.EIO) }
        defer { try? file.close() }
        let chunk = Data(count: 4096)
        do {
            while true { try file.write(contentsOf: chunk) }
        } catch {
            // ENOSPC: full.
        }
    }
}
