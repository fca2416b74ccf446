#if canImport(Glibc)
import Glibc
#endif

/// Writing to stdout and stderr. Foundation's `FileHandle.write` traps on any error (a full
/// disk, a closed pipe): a log line must never end the daemon, nor a result the CLI.
public enum StandardStream {
    /// All of `bytes` to `descriptor`, resuming after partial writes and signals; the errno
    /// that stopped it, or nil when all were written.
    @discardableResult
    public static func write(_ bytes: [UInt8], to descriptor: CInt) -> CInt? {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if n > 0 {
                written += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return n < 0 ? errno : EIO
            }
        }
        return nil
    }

    /// One line to stderr, whatever happens to it.
    public static func error(_ line: String) {
        write(Array((line + "\n").utf8), to: STDERR_FILENO)
    }
}
