import ASCIINumbers
import ArgumentParser
import Foundation
import GuestStore
import HostProcess

/// Container runtimes' hooks: a container is registered as it starts and stopped as it stops,
/// with no hand registration. A hook never fails the container: whatever goes wrong is one
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
                let state = try OCIState(json: Input.read("-"))
                let annotations = Annotations(state.annotations)
                let name = annotations.instance ?? state.id
                switch state.status {
                case "creating", "created", "running":
                    guard let pid = state.pid else { throw StoreError.invalidArgument("the state of \(state.id) has no pid") }
                    try Hook.start(store, name: name, pid: pid, annotations: annotations)
                case "stopped":
                    try Hook.stop(store, name: name)
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
                      let type = environment["LXC_HOOK_TYPE"] ?? arguments.dropFirst(2).first else {
                    throw StoreError.invalidArgument("LXC_NAME and LXC_HOOK_TYPE are not set: run by LXC as lxc.hook.start-host or lxc.hook.post-stop")
                }
                switch type {
                case "start-host":
                    guard let pid = environment["LXC_PID"].flatMap({ Int(ascii: $0.utf8) }) else {
                        throw StoreError.invalidArgument("LXC_PID is not a pid")
                    }
                    try Hook.start(store, name: name, pid: pid, annotations: Annotations([:]))
                case "post-stop", "stop":
                    try Hook.stop(store, name: name)
                default:
                    throw StoreError.invalidArgument("hook type \(type) is not start-host or post-stop")
                }
            }
        }
    }
}

enum Hook {
    /// Runs `body` on the store (made if missing); a failure is one line and exit 0 all the same.
    static func run(_ global: GlobalOptions, _ body: (Store) throws -> Void) {
        do {
            try body(try GlobalOptions.open(global.paths, .create))
        } catch {
            StandardStream.error("guestapi-admin hook: \(error)")
        }
    }

    static func start(_ store: Store, name: String, pid: Int, annotations: Annotations) throws {
        let identity = try Registration.identity(pid: pid, cgroup: try cgroup(of: pid))
        _ = try store.startInstance(name: name, identity: identity, config: annotations.config, devices: annotations.devices)
    }

    static func stop(_ store: Store, name: String) throws {
        try store.stopInstance(name: name)
    }

    /// The container's own cgroup, so that processes entered into it are recognized too: the
    /// unified hierarchy's path, else the first hierarchy's that is not the root.
    static func cgroup(of pid: Int) throws -> String? {
        let lines = try ProcFS.cgroupLines(pid) ?? []
        if let unified = lines.first(where: { $0.hierarchy == "0" })?.path, unified != "/" { return unified }
        return lines.map(\.path).first { $0 != "/" }
    }
}

/// The part of an OCI container's state a hook reads (runtime-spec `state`).
struct OCIState {
    var id: String
    var status: String
    var pid: Int?
    var annotations: [String: String]

    init(json bytes: [UInt8]) throws {
        let document: JSONText
        do { document = try JSONText(parsing: bytes) } catch { throw StoreError.invalidArgument("container state: \(error)") }
        guard case .object(let members) = document else { throw StoreError.invalidArgument("container state: not an object") }
        func field(_ name: String) -> JSONText? { members.first { $0.key == name }?.value }
        guard case .string(let id)? = field("id"), case .string(let status)? = field("status") else {
            throw StoreError.invalidArgument("container state: no id or status")
        }
        self.id = id
        self.status = status
        if case .integer(let pid)? = field("pid") { self.pid = pid }
        annotations = [:]
        if case .object(let entries)? = field("annotations") {
            for case (let key, .string(let value)) in entries { annotations[key] = value }
        }
    }
}

/// guestapi's annotations on a container: `org.linuxcontainers.guestapi.instance` names its
/// instance; `…config.<key>` and `…device.<name>.<setting>` give config and devices to add.
struct Annotations {
    static let prefix = "org.linuxcontainers.guestapi."
    var instance: String?
    var config: [String: [UInt8]] = [:]
    var devices: [String: [String: String]] = [:]

    init(_ annotations: [String: String]) {
        for (key, value) in annotations where key.hasPrefix(Self.prefix) {
            let rest = key.dropFirst(Self.prefix.count)
            if rest == "instance" {
                instance = value
            } else if rest.hasPrefix("config.") {
                config[String(rest.dropFirst("config.".count))] = Array(value.utf8)
            } else if rest.hasPrefix("device."), let dot = rest.dropFirst("device.".count).firstIndex(of: ".") {
                devices[String(rest[rest.index(rest.startIndex, offsetBy: "device.".count)..<dot]), default: [:]][String(rest[rest.index(after: dot)...])] = value
            }
        }
    }
}
