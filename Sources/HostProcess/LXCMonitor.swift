/// LXC's monitor, as the title it gives itself names it: `[lxc monitor] PATH NAME`, the
/// container NAME under the lxcpath PATH. Any process may take such a title: what it names
/// counts only with proof that the process is the monitor (see the daemon's LXC monitor rule).
public struct LXCMonitor: Sendable, Equatable {
    public var path: String
    public var name: String

    /// From a command line as `ProcFS.cmdline` reads it; nil when it is not a monitor's title.
    public init?(title: String) {
        let prefix = "[lxc monitor] "
        guard title.hasPrefix(prefix) else { return nil }
        var rest = Substring(title.dropFirst(prefix.count))
        while rest.last == " " { rest.removeLast() }  // the NUL after the title, as cmdline reads it
        // A container's name has no space; its lxcpath may.
        guard let space = rest.lastIndex(of: " ") else { return nil }
        path = String(rest[..<space])
        name = String(rest[rest.index(after: space)...])
        if path.isEmpty || name.isEmpty { return nil }
    }

    /// The container, as a hook records it: `<lxcpath>/<name>`.
    public var container: String { path + "/" + name }
}
