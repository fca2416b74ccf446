import ArgumentParser
import GuestStore

struct DeviceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device", abstract: "Add, change, remove and list devices.",
        subcommands: [Add.self, Set.self, Remove.self, List.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a device: NAME TYPE [key=value]...")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: TargetOptions
        @Argument var name: String
        @Argument var type: String
        @Argument var settings: [String] = []

        func run() throws {
            try global.withStore { store in
                try store.addDevice(
                    instance: target.name, device: name, type: type,
                    settings: try Validation.deviceAssignments(settings))
            }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Change a device's keys; key= removes one.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: TargetOptions
        @Argument var name: String
        @Argument var settings: [String]

        func run() throws {
            try global.withStore { store in
                try store.updateDevice(instance: target.name, device: name, settings: try Validation.deviceAssignments(settings))
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a device.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: TargetOptions
        @Argument var name: String

        func run() throws {
            try global.withStore { try $0.removeDevice(instance: target.name, device: name) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List an instance's devices.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: TargetOptions

        func run() throws {
            try global.withStore(.read) { store in
                let devices = try store.devices(instanceID: try store.targetInstance(named: target.name).id)
                if global.format == .json { return Output.json(devices) }
                Output.table(
                    ["NAME", "TYPE", "CONFIG"],
                    devices.sorted(by: { $0.key < $1.key }).map { name, config in
                        [
                            name, config["type"] ?? "",
                            config.filter { $0.key != "type" }.sorted(by: { $0.key < $1.key })
                                .map { "\($0.key)=\($0.value)" }.joined(separator: " "),
                        ]
                    })
            }
        }
    }
}
