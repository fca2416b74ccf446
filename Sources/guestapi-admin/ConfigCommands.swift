import ArgumentParser
import Foundation
import GuestStore

struct SetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set", abstract: "Set a config key.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: TargetOptions
    @Argument var key: String
    @Argument var value: String?
    @Option(help: "Read the value from a file, '-' for standard input (exact bytes).")
    var file: String?

    func validate() throws {
        if (value == nil) == (file == nil) { throw ValidationError("give a VALUE or --file, not both or neither") }
    }

    func run() throws {
        try global.withStore { store in
            let bytes: [UInt8]
            if let value {
                bytes = Array(value.utf8)
            } else {
                // Read no further than the largest value there may be.
                let limit = try store.maxValueSize()
                bytes = try Input.read(file!, limit: limit + 1)
                if bytes.count > limit { throw StoreError.valueTooLarge(key: key, size: nil, limit: limit) }
            }
            try store.setConfig(instance: target.name, key: key, value: bytes)
        }
    }
}

struct UnsetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unset", abstract: "Remove a config key.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: TargetOptions
    @Argument var key: String

    func run() throws {
        try global.withStore { try $0.unsetConfig(instance: target.name, key: key) }
    }
}

struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Print a config key's value.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: TargetOptions
    @Argument var key: String

    func run() throws {
        try global.withStore(.read) { store in
            try Validation.checkKey(key)
            let instance = try store.targetInstance(named: target.name)
            guard let value = try store.configValue(instanceID: instance.id, key: key) else {
                throw StoreError.keyNotSet(key: key, instance: instance.name)
            }
            if global.format == .json { return Output.json([key: String(decoding: value, as: UTF8.self)]) }
            Output.write(value + [UInt8(ascii: "\n")])
        }
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "List config keys.", subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List an instance's config keys and values.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var target: TargetOptions

        func run() throws {
            try global.withStore(.read) { store in
                let config = try store.config(instanceID: try store.targetInstance(named: target.name).id)
                if global.format == .json {
                    return Output.json(Dictionary(uniqueKeysWithValues: config.map { ($0.key, String(decoding: $0.value, as: UTF8.self)) }))
                }
                Output.table(["KEY", "VALUE"], config.map { [$0.key, Output.cell($0.value)] })
            }
        }
    }
}
