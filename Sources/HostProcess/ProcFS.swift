import ASCIINumbers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What `/proc` says about a process. Each call reads the kernel's answer now; a process that
/// is gone yields nil, and a file that cannot be read for another reason (out of descriptors,
/// out of memory) throws `ProcFS.Unreadable`: the process may well exist, so the caller must
/// not take that for "no such process".
public enum ProcFS {
    /// `/proc` could not be read now; asking again later may work.
    public struct Unreadable: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var errno: Int32

        public init(path: String, errno: Int32) {
            self.path = path
            self.errno = errno
        }

        public var description: String { "cannot read \(path): \(String(cString: strerror(errno)))" }
    }

    /// The parts of `/proc/PID/stat` identity needs: the parent and the start time
    /// (field 22, clock ticks since boot), which together with the pid name one process for good.
    public struct Stat: Sendable, Equatable {
        public var parentPID: Int
        public var startTime: Int
    }

    public static func stat(_ pid: Int) throws -> Stat? {
        guard pid > 0 else { return nil }
        // This runs for each ancestor of each new connection, so it reads into the stack in
        // one call (the kernel makes the whole line at once) and parses in place.
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { buffer in
            let count = withPath(pid, "stat") { readOnce($0, into: buffer) }
            if count < 0 { return try gone(Int32(-count), "/proc/\(pid)/stat") }
            // A line that fills the buffer may have been cut: read it the general way.
            guard count < buffer.count else { return try read("/proc/\(pid)/stat").flatMap { $0.withUnsafeBufferPointer(parseStat) } }
            return count > 0 ? parseStat(UnsafeBufferPointer(rebasing: buffer[..<count])) : nil
        }
    }

    /// nil when `error` says the process is gone (or never was); throws for any other failure.
    private static func gone<T>(_ error: Int32, _ path: String) throws -> T? {
        switch error {
        case ENOENT, ESRCH, ENOTDIR: return nil
        default: throw Unreadable(path: path, errno: error)
        }
    }

    static func parseStat(_ bytes: UnsafeBufferPointer<UInt8>) -> Stat? {
        // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // Fields are separated by single spaces, and the first after ") " is field 3 (state).
        var field = 3
        var start = close + 2
        var ppid: Int?
        for i in start..<bytes.count where bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\n") {
            if field == 4 { ppid = Int(ascii: UnsafeBufferPointer(rebasing: bytes[start..<i])) }
            if field == 22 {
                guard let ppid, let startTime = Int(ascii: UnsafeBufferPointer(rebasing: bytes[start..<i])) else { return nil }
                return Stat(parentPID: ppid, startTime: startTime)
            }
            field += 1
            start = i + 1
        }
        return nil
    }

    /// Calls `body` with `/proc/PID/LEAF` as a C string, made without an allocation.
    private static func withPath<T>(_ pid: Int, _ leaf: StaticString, _ body: (UnsafePointer<CChar>) -> T) -> T {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { path in
            var length = 0
            func append(_ byte: UInt8) {
                path[length] = CChar(bitPattern: byte)
                length += 1
            }
            "/proc/".utf8.forEach(append)
            var digits = 1
            while pid / digits >= 10 { digits *= 10 }
            while digits > 0 {
                append(UInt8(ascii: "0") + UInt8(pid / digits % 10))
                digits /= 10
            }
            append(UInt8(ascii: "/"))
            UnsafeBufferPointer(start: leaf.utf8Start, count: leaf.utf8CodeUnitCount).forEach(append)
            append(0)
            return body(path.baseAddress!)
        }
    }

    /// One read(2) of a file into `buffer`: the byte count, or minus the errno of the failure.
    private static func readOnce(_ path: UnsafePointer<CChar>, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return -Int(errno) }
        defer { close(fd) }
        var n: Int
        repeat { n = Glibc.read(fd, buffer.baseAddress, buffer.count) } while n < 0 && errno == EINTR
        return n < 0 ? -Int(errno) : n
    }

    /// The time since boot in the clock ticks of start times (field 22 of `/proc/PID/stat`,
    /// counted on the boot-time clock), rounded down.
    public static func ticksSinceBoot() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        return (Int(now.tv_sec) * ticksPerSecond) + Int(now.tv_nsec) / (1_000_000_000 / ticksPerSecond)
    }

    private static let ticksPerSecond = sysconf(Int32(_SC_CLK_TCK))

    /// The inode of the process's PID namespace (`/proc/PID/ns/pid`).
    public static func pidNamespaceInode(_ pid: Int) throws -> Int? {
        guard pid > 0 else { return nil }
        let path = "/proc/\(pid)/ns/pid"
        let (inode, error) = inode(of: path)
        return try inode ?? gone(error, path)
    }

    /// The cgroup paths of every hierarchy (`0::/path` on a unified host; several on hybrid ones).
    public static func cgroups(_ pid: Int) throws -> [String]? {
        try cgroupLines(pid)?.map(\.path)
    }

    /// Each line of `/proc/PID/cgroup`.
    public static func cgroupLines(_ pid: Int) throws -> [CgroupFS.Line]? {
        guard let bytes = try read("/proc/\(pid)/cgroup") else { return nil }
        return bytes.split(separator: UInt8(ascii: "\n")).compactMap { line in
            let parts = line.split(separator: UInt8(ascii: ":"), maxSplits: 2, omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }
            return parts.count == 3 ? CgroupFS.Line(hierarchy: parts[0], controllers: parts[1], path: parts[2]) : nil
        }
    }

    /// The command line, arguments joined by spaces, up to its first `limit` bytes.
    public static func cmdline(_ pid: Int, limit: Int = 4096) throws -> String? {
        try read("/proc/\(pid)/cmdline", limit: limit).map { String(decoding: $0.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self) }
    }

    /// The real uid and the number of PID namespaces the process is seen in (`NSpid:`).
    public static func status(_ pid: Int) throws -> (uid: Int, namespaceDepth: Int)? {
        guard let bytes = try read("/proc/\(pid)/status") else { return nil }
        var uid: Int?
        var depth = 1
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(whereSeparator: { $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: " ") })
            guard let head = fields.first else { continue }
            if head.elementsEqual("Uid:".utf8), fields.count > 1 { uid = Int(ascii: fields[1]) }
            if head.elementsEqual("NSpid:".utf8) { depth = fields.count - 1 }
        }
        return uid.map { ($0, depth) }
    }

    /// Reads a small /proc file, whole or up to `limit` bytes; nil if the process is gone.
    static func read(_ path: String, limit: Int = 1 << 20) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return try gone(errno, path) }
        defer { close(fd) }
        var result: [UInt8] = []
        // On the stack: most of these files are read whole in one call.
        let failure: Int32? = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buffer in
            while result.count < limit {
                let n = Glibc.read(fd, buffer.baseAddress, min(buffer.count, limit - result.count))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { return errno }
                guard n > 0 else { break }
                result.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<n]))
            }
            return nil
        }
        if let failure { return try gone(failure, path) }
        return result
    }
}

/// Outside `ProcFS`, whose `stat(_:)` would hide the C function: the inode, or nil and errno.
private func inode(of path: String) -> (Int?, Int32) {
    var st = stat()
    return stat(path, &st) == 0 ? (Int(st.st_ino), 0) : (nil, errno)
}
