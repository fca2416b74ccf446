import Foundation

/// A cgroup made for one test in the unified (v2) hierarchy, directly under its root, and
/// removed with its subgroups when the value goes away; processes still inside are moved
/// back to the root first, so removal never fails on a live member.
///
/// Not Sendable: one test owns it.
final class TestCgroup {
    /// Where the unified hierarchy is mounted: `/sys/fs/cgroup` on a pure v2 host,
    /// `/sys/fs/cgroup/unified` on a hybrid one; nil when there is none.
    static let mountPoint: String? = {
        let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
        for line in mounts.split(separator: "\n") {
            let fields: [Substring] = line.split(separator: " ")
            if fields.count > 2 && fields[2] == "cgroup2" { return String(fields[1]) }
        }
        return nil
    }()

    /// The group as `/proc/PID/cgroup` names it (what `--cgroup` takes).
    let path: String
    private let root: String
    /// Groups made, parents first.
    private var made: [String] = []

    /// `path`: where to make the group, as `/proc/PID/cgroup` would name it.
    init(path: String = "/guestapi-test-\(UUID().uuidString)") throws {
        guard let root = Self.mountPoint else { throw TestCgroupError.noUnifiedHierarchy }
        self.root = root
        self.path = path
        try make(path)
    }

    deinit {
        for group in made.reversed() {
            for pid in Self.members(root + group) { try? write(pid, to: root) }
            rmdir(root + group)
        }
    }

    /// Makes the subgroup `name` of this group; returns its path.
    func subgroup(_ name: String) throws -> String {
        try make(path + "/" + name)
        return path + "/" + name
    }

    /// Moves a process (not its existing children) into `group` (this group by default).
    func add(_ pid: Int32, to group: String? = nil) throws {
        try write(String(pid), to: root + (group ?? path))
    }

    private func make(_ group: String) throws {
        try FileManager.default.createDirectory(atPath: root + group, withIntermediateDirectories: false)
        made.append(group)
    }

    private func write(_ pid: String, to folder: String) throws {
        try Data((pid + "\n").utf8).write(to: URL(fileURLWithPath: folder + "/cgroup.procs"))
    }

    private static func members(_ folder: String) -> [String] {
        ((try? String(contentsOfFile: folder + "/cgroup.procs", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}

enum TestCgroupError: Error { case noUnifiedHierarchy }
