import Foundation
import Testing

/// A real container to run guests in: runc or LXC, configured with only what the README says
/// (the socket's folder at /dev/incus, the hooks), and the host's /usr bound read-only so that
/// curl and python3 are inside. Removed when dropped.
protocol Container: AnyObject {
    var name: String { get }
    /// A command run inside, entered from the host (`runc exec`, `lxc-attach`): its output.
    func run(_ command: String, timeout: Duration) throws -> CommandResult
    /// A file inside, as the host sees it.
    func file(_ path: String) -> String
    func start() throws
    func stop() throws
}

extension Container {
    func run(_ command: String) throws -> CommandResult { try run(command, timeout: .seconds(30)) }

    /// `curl -i` from inside, parsed.
    func answer(_ path: String, _ options: String = "") throws -> Answer {
        let result = try run("curl -s -i --max-time 10 --unix-socket /dev/incus/sock \(options) 'http://guest\(path)'")
        return Answer(try #require(HTTPResponse(result.stdout), "curl in \(name) exited \(result.status): \(result.stderr)"))
    }
}

enum Runtimes {
    static let runc = "/usr/sbin/runc"
    static let runcAvailable = FileManager.default.isExecutableFile(atPath: runc)
    static let lxcAvailable =
        FileManager.default.isExecutableFile(atPath: "/usr/bin/lxc-start")
        && FileManager.default.fileExists(atPath: "/usr/share/lxc/templates/lxc-busybox")
    static let runcMissing: Comment = "runc is not installed (apt-get install runc): no OCI runtime to test with"
    static let podman = "/usr/bin/podman"
    static let podmanAvailable = runcAvailable && FileManager.default.isExecutableFile(atPath: podman)
    static let podmanMissing: Comment = "podman (or runc) is not installed (apt-get install podman runc)"
    static let lxcMissing: Comment = "LXC is not installed (apt-get install lxc busybox-static): no LXC container to test with"

    /// A short unique name: runc ids and LXC names become cgroup and hostnames.
    static func uniqueName(_ prefix: String) -> String {
        prefix + "-" + String(UUID().uuidString.prefix(8)).lowercased()
    }
}

/// A runc container from a bundle of its own, with guestapi's createRuntime and poststop hooks.
final class RuncContainer: Container {
    let name: String
    let bundle: String
    private let state: TemporaryState

    /// `annotations` go to config.json; `extraMounts` are (host folder, container path) binds.
    /// `installed`: the runtime files an install wrote (`Installed`), whose mounts and hooks
    /// are merged as the README says, instead of the test's own.
    init(
        state: TemporaryState, annotations: [String: String] = [:], extraMounts: [(String, String)] = [],
        installed: Installed? = nil
    ) throws {
        name = Runtimes.uniqueName("gt")
        self.state = state
        bundle = state.directory + "/bundle-" + name
        let rootfs = bundle + "/rootfs"
        for folder in ["usr", "proc", "dev", "tmp", "etc", "root"] {
            try FileManager.default.createDirectory(atPath: rootfs + "/" + folder, withIntermediateDirectories: true)
        }
        for link in ["bin", "lib", "lib64", "sbin"] {
            try FileManager.default.createSymbolicLink(atPath: rootfs + "/" + link, withDestinationPath: "usr/" + link)
        }
        try Command(Runtimes.runc, ["spec", "--bundle", bundle]).run().requireSuccess()
        let file = URL(fileURLWithPath: bundle + "/config.json")
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        var process = config["process"] as! [String: Any]
        process["terminal"] = false
        process["args"] = ["/bin/sh", "-c", "exec sleep 3600"]
        config["process"] = process
        config["root"] = ["path": "rootfs", "readonly": false]
        var mounts = config["mounts"] as! [[String: Any]]
        for (source, destination) in [("/usr", "/usr")] + extraMounts {
            mounts.append(["destination": destination, "type": "bind", "source": source, "options": ["rbind", "ro"]])
        }
        if let installed {
            let fragment = try installed.runcFragment()
            mounts += fragment["mounts"] as? [[String: Any]] ?? []
            config["mounts"] = mounts
            config["hooks"] = fragment["hooks"]
        } else {
            // The documented lines: the socket's folder at /dev/incus, and the hooks.
            mounts.append([
                "destination": "/dev/incus", "type": "bind", "source": (state.socket as NSString).deletingLastPathComponent,
                "options": ["bind"],
            ])
            config["mounts"] = mounts
            let hook: [String: Any] = ["path": Binaries.admin, "args": ["guestapi-admin", "hook", "oci", "--state-dir", state.directory]]
            config["hooks"] = ["createRuntime": [hook], "poststop": [hook]]
        }
        config["annotations"] = annotations
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted]).write(to: file)
    }

    deinit {
        _ = try? Command(Runtimes.runc, ["delete", "--force", name]).run()
    }

    func start() throws {
        // stdio to files: a detached container's init keeps what it inherits open.
        let log = bundle + "/run.log"
        try Command("/bin/sh", ["-c", "\(Runtimes.runc) run -d --bundle '\(bundle)' \(name) >'\(log)' 2>&1 </dev/null"]).run()
            .requireSuccess()
    }

    func stop() throws {
        _ = try Command(Runtimes.runc, ["kill", name, "KILL"]).run()
        let deadline = Date().addingTimeInterval(10)
        while try Command(Runtimes.runc, ["state", name]).run().stdoutText.contains("\"running\""), Date() < deadline { usleep(20_000) }
        try Command(Runtimes.runc, ["delete", name]).run().requireSuccess()
    }

    func run(_ command: String, timeout: Duration) throws -> CommandResult {
        try Command(Runtimes.runc, ["exec", name, "/bin/sh", "-c", command]).run(timeout: timeout)
    }

    func file(_ path: String) -> String { bundle + "/rootfs" + path }
}

/// An LXC container made with the busybox template, network `empty`, the host's /usr bound,
/// and guestapi's lines: the mount entry and the start-host and post-stop hooks.
final class LXCContainer: Container {
    let name: String

    /// `installed`: the runtime files an install wrote (`Installed`), whose lxc.conf is
    /// appended as it is, instead of the test's own lines.
    init(state: TemporaryState, installed: Installed? = nil) throws {
        name = Runtimes.uniqueName("gt")
        try Command("/usr/bin/lxc-create", ["-n", name, "-t", "busybox"]).run(timeout: .seconds(60)).requireSuccess()
        let config = "/var/lib/lxc/\(name)/config"
        var text = try String(contentsOfFile: config, encoding: .utf8)
        text = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("lxc.net.0.") }.joined(separator: "\n")
        let admin = "\(Binaries.admin) hook lxc --state-dir \(state.directory)"
        text += """

            lxc.net.0.type = empty
            lxc.mount.entry = /usr usr none ro,bind 0 0

            """
        text +=
            try installed?.lxcLines()
                ?? """
                lxc.mount.entry = \((state.socket as NSString).deletingLastPathComponent) dev/incus none bind,create=dir 0 0
                lxc.hook.start-host = \(admin)
                lxc.hook.post-stop = \(admin)

                """
        try text.write(toFile: config, atomically: true, encoding: .utf8)
    }

    deinit {
        _ = try? Command("/usr/bin/lxc-stop", ["-n", name, "-k"]).run()
        _ = try? Command("/usr/bin/lxc-destroy", ["-n", name, "-f"]).run()
    }

    func start() throws {
        try Command("/usr/bin/lxc-start", ["-n", name]).run().requireSuccess()
        try Command("/usr/bin/lxc-wait", ["-n", name, "-s", "RUNNING", "-t", "10"]).run().requireSuccess()
    }

    func stop() throws {
        try Command("/usr/bin/lxc-stop", ["-n", name, "-k"]).run(timeout: .seconds(30)).requireSuccess()
    }

    func run(_ command: String, timeout: Duration) throws -> CommandResult {
        // PATH: busybox's /bin first, then the host's /usr/bin (curl, python3).
        try Command(
            "/usr/bin/lxc-attach",
            [
                "-n", name, "--clear-env", "--set-var", "PATH=/bin:/usr/bin:/sbin:/usr/sbin",
                "--", "/bin/sh", "-c", command,
            ]
        ).run(timeout: timeout)
    }

    func file(_ path: String) -> String { "/var/lib/lxc/\(name)/rootfs" + path }
}

/// A podman container (runc underneath: crun refuses this host's hybrid cgroups) whose hooks
/// come from a hooks.d folder, as tools/deploy/runtimes/guestapi-hooks.json installs them.
final class PodmanContainer: Container {
    let name: String
    private let folder: String
    /// Global options for a host with no systemd running.
    private let podman: [String]

    /// `instance`: the instance the annotation names (its own name by default); with
    /// `namedByAnnotation` false, none: podman's name names it.
    init(state: TemporaryState, annotations: [String: String] = [:], instance: String? = nil, namedByAnnotation: Bool = true) throws {
        name = Runtimes.uniqueName("gt")
        folder = state.directory + "/podman-" + name
        let rootfs = folder + "/rootfs"
        let hooks = folder + "/hooks.d"
        for sub in ["usr", "proc", "dev", "tmp", "etc", "sys"] {
            try FileManager.default.createDirectory(atPath: rootfs + "/" + sub, withIntermediateDirectories: true)
        }
        for link in ["bin", "lib", "lib64", "sbin"] {
            try FileManager.default.createSymbolicLink(atPath: rootfs + "/" + link, withDestinationPath: "usr/" + link)
        }
        try FileManager.default.createDirectory(atPath: hooks, withIntermediateDirectories: true)
        let hook: [String: Any] = [
            "version": "1.0.0", "when": ["always": true], "stages": ["createRuntime", "poststop"],
            "hook": ["path": Binaries.admin, "args": ["guestapi-admin", "hook", "oci", "--state-dir", state.directory]],
        ]
        try JSONSerialization.data(withJSONObject: hook).write(to: URL(fileURLWithPath: hooks + "/guestapi.json"))
        podman = [
            Runtimes.podman, "--runtime", Runtimes.runc, "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--hooks-dir", hooks,
        ]
        let socketFolder = (state.socket as NSString).deletingLastPathComponent
        // This sandbox's hard limits are below podman's default ulimits: ask for what is there.
        var arguments = [
            "create", "--name", name, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "--network", "none",
            "-v", "/usr:/usr:ro", "-v", socketFolder + ":/dev/incus",
        ]
        if namedByAnnotation { arguments += ["--annotation", "org.linuxcontainers.guestapi.instance=\(instance ?? name)"] }
        for (key, value) in annotations { arguments += ["--annotation", "\(key)=\(value)"] }
        arguments += ["--rootfs", rootfs, "/bin/sh", "-c", "exec sleep 3600"]
        try Command(podman[0], Array(podman.dropFirst()) + arguments).run(timeout: .seconds(60)).requireSuccess()
        self.rootfs = rootfs
    }

    private let rootfs: String

    deinit {
        _ = try? Command(podman[0], Array(podman.dropFirst()) + ["rm", "-f", name]).run(timeout: .seconds(60))
    }

    func start() throws {
        try Command(podman[0], Array(podman.dropFirst()) + ["start", name]).run(timeout: .seconds(60)).requireSuccess()
    }

    func stop() throws {
        try Command(podman[0], Array(podman.dropFirst()) + ["stop", "-t", "1", name]).run(timeout: .seconds(60)).requireSuccess()
    }

    func run(_ command: String, timeout: Duration) throws -> CommandResult {
        try Command(podman[0], Array(podman.dropFirst()) + ["exec", name, "/bin/sh", "-c", command]).run(timeout: timeout)
    }

    func file(_ path: String) -> String { rootfs + path }
}

/// The runtime files `tools/deploy/install.sh` writes for a state (README, "Containers"),
/// installed with the binaries under test into a folder of the state's.
struct Installed {
    let prefix: String

    init(state: TemporaryState) throws {
        prefix = state.directory + "/installed"
        try Command(InstallTests.script, ["--prefix", prefix, "--state-dir", state.directory, "--bin-dir", Binaries.directory])
            .run(timeout: .seconds(60)).requireSuccess()
    }

    var runtimes: String { prefix + "/share/guestapi/runtimes/" }

    func lxcLines() throws -> String { try String(contentsOfFile: runtimes + "lxc.conf", encoding: .utf8) }

    func runcFragment() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: runtimes + "runc-config-fragment.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}
