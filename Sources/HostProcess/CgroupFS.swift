import ASCIINumbers

#if canImport(Glibc)
import Glibc
#endif

/// What the cgroup file system says about a cgroup path (as `/proc/PID/cgroup` names it).
public enum CgroupFS {
    /// A line of `/proc/PID/cgroup`: the hierarchy's number (`0` is the unified one), its
    /// controllers (v1; `name=systemd` for systemd's), and the path in it.
    public struct Line: Sendable, Equatable {
        public var hierarchy: String
        public var controllers: String
        public var path: String
    }

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

    /// The folder of a line's cgroup, where its hierarchy is mounted as systemd and LXC mount
    /// them: the unified one at /sys/fs/cgroup/unified on a hybrid host, else /sys/fs/cgroup;
    /// a v1 one at /sys/fs/cgroup/<controllers>. nil when it is not there.
    public static func folder(of line: Line) -> String? {
        let mount: String
        if line.hierarchy == "0" {
            mount = access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0 ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup"
        } else {
            let name = line.controllers.hasPrefix("name=") ? String(line.controllers.dropFirst(5)) : line.controllers
            guard !name.isEmpty, !name.contains("/") else { return nil }
            mount = "/sys/fs/cgroup/" + name
        }
        let folder = line.path == "/" ? mount : mount + line.path
        return access(folder + "/cgroup.procs", R_OK) == 0 ? folder : nil
    }

    /// The processes in the cgroup at `folder` and in every cgroup below it, by their pids in
    /// the reader's PID namespace; nil when there are more than `limit` of them, or more than
    /// `limit` cgroups, or a folder cannot be read.
    public static func processes(under folder: String, limit: Int) -> [Int]? {
        var pids: [Int] = []
        var folders = [folder]
        var seen = 0
        while let next = folders.popLast() {
            seen += 1
            guard seen <= limit, let listed = pidsListed(in: next + "/cgroup.procs"), pids.count + listed.count <= limit,
                let directory = opendir(next)
            else { return nil }
            pids += listed
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { folders.append(next + "/" + name) }
            }
        }
        return pids
    }

    private static func pidsListed(in file: String) -> [Int]? {
        guard let bytes = try? ProcFS.read(file) else { return nil }
        return bytes.split(separator: UInt8(ascii: "\n")).compactMap { Int(ascii: $0) }
    }
}
