#if canImport(Glibc)
import Glibc
#endif

/// A file's identity and last change, to tell "the same file as before, unchanged" cheaply.
struct FileStamp: Equatable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modified: Int64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
    }

    func isSameFile(as other: FileStamp) -> Bool { device == other.device && inode == other.inode }
}
