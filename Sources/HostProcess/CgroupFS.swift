#if canImport(Glibc)
import Glibc
#endif

/// What the cgroup file system says about a cgroup path (as `/proc/PID/cgroup` names it).
public enum CgroupFS {
    /// Where a path may be mounted: the unified hierarchy of a hybrid host, a unified host's
    /// root, the systemd hierarchy of a legacy one.
    static let roots = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup", "/sys/fs/cgroup/systemd"]

    /// Whether a process lives in the cgroup (not below it): false when it is empty or gone.
    public static func hasProcesses(_ path: String) -> Bool {
        roots.contains { root in
            let fd = open(root + path + "/cgroup.procs", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            var byte: UInt8 = 0
            return read(fd, &byte, 1) == 1
        }
    }
}
