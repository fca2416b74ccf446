import ArgumentParser
import Foundation
import GuestStore
import HostProcess

struct InstanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instance",
        abstract: "Register, re-attach, list, show and delete instances.",
        subcommands: [Create.self, Attach.self, List.self, Show.self, Delete.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Register an instance.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option var type: Instance.Kind = .container
        @Option(parsing: .unconditional, help: "The instance's init pid (its start time and PID namespace are recorded too).")
        var pid: Int?
        @Option(help: "The instance's cgroup path (its processes live at or under it).")
        var cgroup: String?
        @Option(help: "The container whose runtime hooks may start and stop it: oci:ID (or an OCI id), lxc:LXCPATH/NAME.")
        var container: String?
        @Option(parsing: .unconditional, help: "Host uid of the instance's root (default: 0 as root, else your uid).")
        var rootUID: Int = Int(geteuid())
        @Option(name: .customLong("config"), help: "Initial config, key=value (repeatable).")
        var config: [String] = []

        func validate() throws {
            try Registration.validate(pid: pid)
            if !(0...Int(UInt32.max)).contains(rootUID) { throw ValidationError("--root-uid must be a uid, 0 to \(UInt32.max)") }
        }

        func run() throws {
            try global.withStore(.create) { store in
                let created = try store.createInstance(
                    name: name, type: type, identity: try Registration.identity(pid: pid, cgroup: cgroup),
                    container: try container.map(RuntimeContainer.init(parsing:)), rootUID: rootUID,
                    config: try Validation.assignments(config))
                InstanceCommand.print([created], format: global.format)
            }
        }
    }

    struct Attach: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "attach", abstract: "Give an instance a new identity: a restarted init, a cgroup, or a container to hand it to.",
            discussion: "The identity is replaced whole: what is not given (pid, cgroup) is not kept.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String
        @Option(parsing: .unconditional, help: "The instance's init pid (its start time and PID namespace are recorded too).")
        var pid: Int?
        @Option(help: "The instance's cgroup path.") var cgroup: String?
        @Option(
            help: "Hand it to this container (oci:ID or an OCI id, lxc:LXCPATH/NAME): its runtime's hooks start and stop it from now on.")
        var container: String?

        func validate() throws {
            try Registration.validate(pid: pid)
            if pid == nil && cgroup == nil && container == nil { throw ValidationError("give --pid, --cgroup or --container") }
        }

        func run() throws {
            try global.withStore { store in
                let owner = try container.map { Store.Owner.container(try RuntimeContainer(parsing: $0)) } ?? .unchanged
                let attached = try store.attachInstance(
                    name: name, identity: try Registration.identity(pid: pid, cgroup: cgroup), owner: owner)
                InstanceCommand.print([attached], format: global.format)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List instances.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this instance.") var instance: String?

        func run() throws {
            try global.withStore(.read) { store in
                let all = try instance.map { [try store.instance(named: $0)] } ?? store.instances()
                InstanceCommand.print(all, format: global.format)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an instance with its config and devices.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() throws {
            try global.withStore(.read) { store in
                let instance = try store.instance(named: name)
                let config = try store.config(instanceID: instance.id)
                let devices = try store.devices(instanceID: instance.id)
                if global.format == .json {
                    return Output.json(InstanceRecord(instance, state: InstanceState.of(instance), config: config, devices: devices))
                }
                InstanceCommand.print([instance], format: .table)
                Output.line("\nconfig:")
                for (key, value) in config { Output.line("  \(key): \(Output.cell(value))") }
                Output.line("devices:")
                for (device, settings) in devices.sorted(by: { $0.key < $1.key }) {
                    Output.line(
                        "  \(device): " + settings.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }.joined(separator: " "))
                }
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an instance, its config and devices.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: String

        func run() throws {
            try global.withStore { try $0.deleteInstance(name: name) }
        }
    }

    static func print(_ instances: [Instance], format: GlobalOptions.Format) {
        if format == .json {
            return Output.json(instances.map { InstanceRecord($0, state: InstanceState.of($0), config: nil, devices: nil) })
        }
        Output.table(
            ["NAME", "TYPE", "PID", "PIDNS", "CGROUP", "ROOT-UID", "CONTAINER", "STATE"],
            instances.map {
                [
                    $0.name, $0.type.rawValue, $0.identity.initPID.map(String.init) ?? "-",
                    $0.identity.pidNamespaceInode.map(String.init) ?? "-", $0.identity.cgroup ?? "-",
                    String($0.rootUID), $0.container?.description ?? "-", InstanceState.of($0),
                ]
            })
    }
}

/// STATE as the CLI shows it: Ready or Started while the instance can be recognized; Stopped
/// when its container stopped, or its registered init is gone and no process is left in its
/// cgroup (a container that failed to start leaves its registration so); Unbound when it has
/// neither an init nor a cgroup, so that no rule can recognize any process as it (made by
/// `apply` or `instance create` without them, until `instance attach` or a hook gives one).
enum InstanceState {
    static func of(_ instance: Instance) -> String {
        if instance.stopped { return "Stopped" }
        if instance.identity.initPID == nil && instance.identity.cgroup == nil { return "Unbound" }
        if let pid = instance.identity.initPID {
            let running = (try? ProcFS.stat(pid)).flatMap { $0?.startTime } == instance.identity.initStartTime
            if !running && !(instance.identity.cgroup.map(CgroupFS.hasProcesses) ?? false) { return "Stopped" }
        }
        return instance.ready ? "Ready" : "Started"
    }
}

extension Instance.Kind: ExpressibleByArgument {}

/// How `--pid` and `--cgroup` become an identity the daemon can match.
enum Registration {
    /// A usage error (exit 64) when `--pid` is no pid at all.
    static func validate(pid: Int?) throws {
        if let pid, !(1...Int(Int32.max)).contains(pid) { throw ValidationError("--pid must be a pid, 1 to \(Int32.max)") }
    }

    static func identity(pid: Int?, cgroup: String?) throws -> InstanceIdentity {
        var identity = InstanceIdentity(cgroup: cgroup)
        if let cgroup {
            guard cgroup.hasPrefix("/") else { throw StoreError.invalidArgument("cgroup \(cgroup) must be an absolute path") }
            if cgroup == "/" { throw StoreError.invalidArgument("the root cgroup cannot identify an instance") }
            if cgroup.count > 1 && cgroup.hasSuffix("/") { identity.cgroup = String(cgroup.dropLast()) }
        }
        if let pid {
            do {
                guard pid > 0, let stat = try ProcFS.stat(pid) else { throw StoreError.invalidArgument("no process with pid \(pid)") }
                // Every host process descends from pid 1, and kernel threads (kthreadd, pid 2, and
                // its children) are nobody's init: either would make the host an instance.
                if pid == 1 { throw StoreError.invalidArgument("pid 1 is the host's init: every process would be the instance") }
                if pid == 2 || stat.parentPID == 2 {
                    throw StoreError.invalidArgument("pid \(pid) is a kernel thread, not an instance's init")
                }
                identity.initPID = pid
                identity.initStartTime = stat.startTime
                // A namespace identifies an instance only when it is not the host's: else every host process would match.
                let namespace = try ProcFS.pidNamespaceInode(pid)
                identity.pidNamespaceInode = namespace == (try ProcFS.pidNamespaceInode(Int(getpid()))) ? nil : namespace
            } catch let error as ProcFS.Unreadable {
                throw StoreError.io("\(error)")
            }
        }
        return identity
    }
}
