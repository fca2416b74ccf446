import ASCIINumbers
import ArgumentParser
import Foundation
import GuestStore
import HostProcess
import StandardStreams

/// Container runtimes' hooks: a container is registered as it starts and stopped as it stops,
/// with no hand registration. A hook speaks for its own container only (README, "Runtime
/// hooks: who may name what"), and never fails it: whatever goes wrong or is refused is one
/// line on stderr and exit 0, and the store changes whole or not at all.
struct HookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook", abstract: "Register and stop instances from container runtimes' hooks.",
        subcommands: [OCI.self, LXC.self])

    /// An OCI runtime hook (runc, crun; podman and CRI-O through hooks.d): the container's state
    /// JSON on stdin. `createRuntime` or `poststart` (status creating, created or running)
    /// registers or starts the instance; `poststop` (status stopped) stops it.
    struct OCI: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "oci",
            abstract: "OCI runtime hook: the state JSON on stdin (createRuntime/poststart: start; poststop: stop).")
        @OptionGroup var global: GlobalOptions

        func run() {
            Hook.run(global) { store in
                let state = try OCIState(json: Input.read("-", limit: Hook.maxState))
                let container = try RuntimeContainer(.oci, id: state.id)
                let annotations = Annotations(state.annotations)
                let name = annotations.instance ?? state.kubernetesName ?? state.storageName ?? state.id
                switch state.status {
                case "creating", "created", "running":
                    guard let pid = state.pid else { throw StoreError.invalidArgument("the state of \(state.id) has no pid") }
                    try Hook.start(store, name: name, container: container, pid: pid, annotations: annotations)
                case "stopped":
                    try Hook.stop(store, name: name, container: container)
                default:
                    throw StoreError.invalidArgument("unknown container status \"\(state.status)\"")
                }
            }
        }
    }

    /// An LXC hook: `lxc.hook.start-host` starts the instance named `LXC_NAME` with the init
    /// `LXC_PID`; `lxc.hook.post-stop` stops it.
    struct LXC: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lxc",
            abstract: "LXC hook (start-host: start; post-stop: stop), from LXC_NAME, LXC_PID and LXC_HOOK_TYPE.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: .hidden) var lxcArguments: [String] = []

        func run() {
            Hook.run(global) { store in
                // LXC_HOOK_TYPE is set with lxc.hook.version = 1; version 0 (the default) passes
                // the container's name, the section and the hook type as arguments.
                let environment = ProcessInfo.processInfo.environment
                let arguments = lxcArguments.count >= 3 ? lxcArguments : []
                guard let name = environment["LXC_NAME"] ?? arguments.first,
                    let type = environment["LXC_HOOK_TYPE"] ?? arguments.dropFirst(2).first
                else {
                    throw StoreError.invalidArgument(
                        "LXC_NAME and LXC_HOOK_TYPE are not set: run by LXC as lxc.hook.start-host or lxc.hook.post-stop")
                }
                let container = try Self.container(name: name, configFile: environment["LXC_CONFIG_FILE"])
                switch type {
                case "start-host":
                    guard let pid = environment["LXC_PID"].flatMap({ Int(ascii: $0.utf8) }) else {
                        throw StoreError.invalidArgument("LXC_PID is not a pid")
                    }
                    try Hook.start(store, name: name, container: container, pid: pid, annotations: Annotations([:]))
                case "post-stop", "stop":
                    try Hook.stop(store, name: name, container: container)
                default:
                    throw StoreError.invalidArgument("hook type \(type) is not start-host or post-stop")
                }
            }
        }

        /// `lxc:<lxcpath>/<name>`: as the monitor that runs LXC's hooks names itself (`[lxc
        /// monitor] PATH NAME`, the same words the daemon's LXC monitor rule reads), else the
        /// folder of the container's config file.
        static func container(name: String, configFile: String?) throws -> RuntimeContainer {
            let parent = Int(getppid())
            if let title = try? ProcFS.cmdline(parent), let monitor = LXCMonitor(title: title), monitor.name == name,
                let status = try? ProcFS.status(parent), status.uid == 0
            {
                return try RuntimeContainer(.lxc, id: monitor.container)
            }
            guard let configFile, configFile.hasPrefix("/") else {
                throw StoreError.invalidArgument(
                    "cannot tell which LXC container this is: not run by an LXC monitor, and LXC_CONFIG_FILE is not set")
            }
            return try RuntimeContainer(.lxc, id: (configFile as NSString).deletingLastPathComponent)
        }
    }
}

enum Hook {
    /// The most of a state JSON a hook reads: annotations are the tenant's, and a runtime
    /// hands them on whatever their size.
    static let maxState = 64 << 20
    /// Processes and cgroups a container's cgroup may hold for it to be recorded.
    static let maxCgroupProcesses = 16_384

    /// Runs `body` on the store (made if missing); a failure is one line and exit 0 all the same.
    static func run(_ global: GlobalOptions, _ body: (Store) throws -> Void) {
        do {
            try body(try GlobalOptions.open(global.paths, .create))
        } catch {
            say("\(error)")
        }
    }

    /// One line on stderr, which the runtime logs: whatever a tenant chose in it (a name, an
    /// annotation) has its control and non-ASCII bytes escaped, so it stays one line.
    static func say(_ line: String) {
        StandardStream.error(
            "guestapi-admin hook: "
                + line.unicodeScalars.map {
                    $0.isASCII && $0.value >= 0x20 && $0.value != 0x7f ? String($0) : $0.escaped(asASCII: true)
                }.joined())
    }

    static func start(_ store: Store, name: String, container: RuntimeContainer, pid: Int, annotations: Annotations) throws {
        var annotations = annotations
        let limit = try store.maxValueSize()
        for (key, value) in annotations.config where value.count > limit {
            annotations.config[key] = nil
            annotations.ignored.append(Annotations.prefix + "config." + key)
        }
        if !annotations.ignored.isEmpty {
            let shown = annotations.ignored.sorted().prefix(10).map { "\"\($0.prefix(80))\"" }.joined(separator: ", ")
            say(
                "ignored annotations \(shown)\(annotations.ignored.count > 10 ? ", ..." : ""): a container gives only its instance's name, "
                    + "user.* and cloud-init.* config of at most \(limit) bytes, and devices of Incus's types")
        }
        let identity = try Registration.identity(pid: pid, cgroup: try ownCgroup(of: pid))
        switch try store.startInstance(
            name: name, container: container, identity: identity, config: annotations.config,
            devices: annotations.devices)
        {
        case .started(_, droppedCgroup: true):
            say(
                "cgroup \(identity.cgroup ?? "") of \(container.description) belongs to another instance: not recorded; "
                    + "\(name) is recognized by its PID namespace")
        case .refused(let holder):
            refused(name, holder: holder, asking: container)
        case .started, .stopped:
            break
        }
    }

    static func stop(_ store: Store, name: String, container: RuntimeContainer) throws {
        if case .refused(let holder) = try store.stopInstance(name: name, container: container) {
            refused(name, holder: holder, asking: container)
        }
    }

    private static func refused(_ name: String, holder: RuntimeContainer?, asking container: RuntimeContainer) {
        let asking = container.description
        if let holder {
            say("refused: instance \(name) belongs to container \(holder), not to \(asking); \(asking) gets no instance")
        } else {
            say(
                "refused: instance \(name) is the host's; \(asking) gets no instance (the host may hand it over: "
                    + "guestapi-admin instance attach \(name) --container \(asking) --pid PID)")
        }
    }

    /// The container's own cgroup, so that processes entered into it are recognized too: the
    /// unified hierarchy's path, else the first hierarchy's that is not the root. Recorded
    /// only if every process in it (and below it) lives in the container's PID namespace: a
    /// cgroup shared with anything else would give that the instance too.
    static func ownCgroup(of pid: Int) throws -> String? {
        let lines = try ProcFS.cgroupLines(pid) ?? []
        guard let line = lines.first(where: { $0.hierarchy == "0" && $0.path != "/" }) ?? lines.first(where: { $0.path != "/" }) else {
            return nil
        }
        guard let namespace = try ProcFS.pidNamespaceInode(pid), let folder = CgroupFS.folder(of: line),
            let members = CgroupFS.processes(under: folder, limit: maxCgroupProcesses)
        else {
            say("cgroup \(line.path) could not be read whole: not recorded")
            return nil
        }
        for member in members {
            let theirs = try ProcFS.pidNamespaceInode(member)
            if theirs != nil && theirs != namespace {
                say("cgroup \(line.path) holds process \(member), which is not in the container's PID namespace: not recorded")
                return nil
            }
        }
        return line.path
    }
}
