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

    /// Writes `path` until the file system is full. Close-on-exec: a child another test
    /// spawns meanwhile must not hold the file, or removing it would free nothing.
    static func fill(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 4096)
        // Until ENOSPC: full.
        while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
    }
}
