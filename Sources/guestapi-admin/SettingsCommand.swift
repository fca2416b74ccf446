import ArgumentParser
import GuestJSON
import GuestStore

/// Host settings (README, "Large values"): kept in the database, so that every writer (this
/// CLI, the hooks, the daemon) holds to them.
struct SettingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings", abstract: "Show and change host settings (max-value-size, identity-*).",
        subcommands: [List.self, Set.self, Unset.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Every setting, with its value.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try global.withStore(.read) { store in
                let settings = try store.settings()
                if global.format == .json {
                    // Whole numbers as numbers; an unset text setting as null.
                    var json = JSONWriter()
                    json.raw("{")
                    for (index, item) in settings.enumerated() {
                        if index > 0 { json.raw(",") }
                        json.string(item.setting.rawValue)
                        json.raw(":")
                        if item.setting.range != nil, let number = Int(item.value) {
                            json.int(number)
                        } else if item.isSet {
                            json.string(item.value)
                        } else {
                            json.raw("null")
                        }
                    }
                    json.raw("}")
                    return Output.line(String(decoding: json.bytes, as: UTF8.self))
                }
                Output.table(
                    ["NAME", "VALUE", "SET"],
                    settings.map { [$0.setting.rawValue, $0.value.isEmpty ? "-" : $0.value, $0.isSet ? "yes" : "default"] })
            }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set", abstract: "Change a setting.",
            discussion: """
                max-value-size: the largest config value, in bytes (or with KiB, MiB, GiB), 1KiB to 256MiB; 8MiB by default. \
                identity-lifetime: seconds an identity token is good for, 1 to 3600; 600 by default. \
                identity-issuer: the tokens' iss, an https:// URL; https://HOSTNAME/guestapi by default. \
                identity-spiffe-domain: a SPIFFE trust domain, making each token's sub a SPIFFE ID; none by default.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument var name: Store.Setting
        @Argument var value: String

        func validate() throws {
            do {
                _ = try name.parse(value)
            } catch {
                throw ValidationError("\(error)")
            }
        }

        func run() throws {
            try global.withStore(.create) { try $0.setSetting(name, value) }
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
