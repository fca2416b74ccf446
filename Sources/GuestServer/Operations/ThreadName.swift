#if canImport(Glibc)
import Glibc
#endif

/// The name the kernel shows for a thread (`/proc/PID/task/TID/comm`, `top -H`): Foundation's
/// `Thread.name` does not set it on Linux.
enum ThreadName {
    /// At most 15 bytes: the kernel keeps no more. (pthread_setname_np is a GNU extension
    /// Swift's Glibc module leaves out: looked up in the C library.)
    static func set(_ name: StaticString) {
        precondition(name.utf8CodeUnitCount <= 15, "thread names are at most 15 bytes")
        typealias SetName = @convention(c) (pthread_t, UnsafePointer<CChar>) -> CInt
        guard let symbol = dlsym(nil, "pthread_setname_np") else { return }
        _ = name.withUTF8Buffer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { unsafeBitCast(symbol, to: SetName.self)(pthread_self(), $0.baseAddress!) }
        }
    }
}
