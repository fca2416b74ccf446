import ArgumentParser
import GuestStore

/// Host settings (README, "Large values"): kept in the database, so that every writer (this
/// CLI, the hooks, the daemon) holds to them.
struct SettingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings", abstract: "Show and change host settings (max-value-size).",
        subcommands: [List.self, Set.self, Unset.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Every setting, with its value.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try global.withStore(.read) { store in
                let settings = try store.settings()
                if global.format == .json {
                    return Output.json(Dictionary(uniqueKeysWithValues: settings.map { ($0.setting.rawValue, $0.value) }))
                }
                Output.table(
                    ["NAME", "VALUE", "SET"], settings.map { [$0.setting.rawValue, String($0.value), $0.isDefault ? "default" : "yes"] })
            }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Change a setting.",
            discussion: "max-value-size: the largest config value, in bytes (or with KiB, MiB, GiB), 1KiB to 256MiB; 8MiB by default.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: Store.Setting
        @Argument var value: String

        func validate() throws {
            guard let bytes = Self.bytes(value), name.range.contains(bytes) else {
                throw ValidationError(
                    "\(name.rawValue) takes a size from \(name.range.lowerBound) to \(name.range.upperBound) bytes (or with KiB, MiB, GiB)")
            }
        }

        func run() throws {
            try global.withStore(.create) { try $0.setSetting(name, Self.bytes(value)!) }
        }

        /// `8388608`, `8192KiB`, `8MiB`, `1GiB`: a size in bytes, nil when it is none (or too large).
        static func bytes(_ text: String) -> Int? {
            let units: [(suffix: String, shift: Int)] = [("GiB", 30), ("MiB", 20), ("KiB", 10), ("", 0)]
            for unit in units where text.hasSuffix(unit.suffix) {
                let digits = text.dropLast(unit.suffix.count)
                guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(digits), number >= 0,
                    number <= Int.max >> unit.shift
                else { return nil }
                return number << unit.shift
            }
            return nil
        }
    }

    struct Unset: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unset", abstract: "Put a setting back to its default.")
        @OptionGroup var global: GlobalOptions
        @Argument var name: Store.Setting

        func run() throws {
            try global.withStore { try $0.setSetting(name, nil) }
        }
    }
}

extension Store.Setting: ExpressibleByArgument {}
