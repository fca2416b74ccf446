#if canImport(Glibc)
import Glibc
#endif

/// What can keep the daemon from serving, in words an operator can act on.
public enum ServerError: Error, CustomStringConvertible, Sendable {
    /// A system call failed: what was being done, and errno.
    case system(String, Int32)
    /// Anything else, said whole.
    case refused(String)

    public var description: String {
        switch self {
        case .system(let action, let error): "cannot \(action): \(String(cString: strerror(error)))"
        case .refused(let message): message
        }
    }
}
