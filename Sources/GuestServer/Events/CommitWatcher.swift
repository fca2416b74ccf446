#if canImport(Glibc)
import Glibc
#endif

/// Wakes the tailer when the database's WAL file is written, and otherwise every `fallback`.
///
/// Only a hint: inotify fires when the commit's frames are written, which can be a moment
/// before the commit is visible, so the caller confirms with `PRAGMA data_version` and looks
/// again shortly if nothing changed yet. The fallback covers anything inotify cannot see.
/// Not Sendable: owned by the tailer's thread.
final class CommitWatcher {
    private let fd: Int32
    private let walName: String
    private var buffer = [UInt8](repeating: 0, count: 4096)

    /// Watches the folder of `databasePath` (the WAL file may not exist yet).
    init(databasePath: String) {
        let slash = databasePath.lastIndex(of: "/")
        let folder = slash.map { String(databasePath[..<$0]) } ?? "."
        walName = String(databasePath[(slash.map { databasePath.index(after: $0) } ?? databasePath.startIndex)...]) + "-wal"
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        if fd >= 0 {
            _ = inotify_add_watch(fd, folder.isEmpty ? "/" : folder, UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO))
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Blocks until the WAL is written or `timeoutMilliseconds` pass; true when the WAL was written.
    func wait(timeoutMilliseconds: Int32) -> Bool {
        guard fd >= 0 else {
            usleep(UInt32(timeoutMilliseconds) * 1000)
            return false
        }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, timeoutMilliseconds) > 0 else { return false }
        return drainEvents()
    }

    /// Reads every pending event; true if one named the WAL file.
    private func drainEvents() -> Bool {
        var sawWAL = false
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { return sawWAL }
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= n {
                let (nameLength, name) = buffer.withUnsafeBytes { raw -> (Int, String) in
                    let length = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let start = offset + MemoryLayout<inotify_event>.size
                    let bytes = raw[start..<min(start + length, n)].prefix { $0 != 0 }
                    return (length, String(decoding: bytes, as: UTF8.self))
                }
                if name == walName { sawWAL = true }
                offset += MemoryLayout<inotify_event>.size + nameLength
            }
        }
    }
}
