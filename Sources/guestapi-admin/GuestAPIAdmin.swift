import ArgumentParser
import Foundation
import GuestVersion
import HostProcess
import StandardStreams

@main
struct GuestAPIAdmin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guestapi-admin",
        abstract: "Manage guestapi's instances, config, devices, images and journal.",
        discussion: "Writes the database directly; a running guestapid reflects each change at once.",
        version: BuildInfo.description,
        subcommands: [
            InstanceCommand.self,
            SetCommand.self, UnsetCommand.self, GetCommand.self, ConfigCommand.self,
            DeviceCommand.self, ImageCommand.self, JournalCommand.self, ApplyCommand.self, ExportCommand.self, HookCommand.self,
            SettingsCommand.self, StatusCommand.self,
        ]
    )

    /// Like ArgumentParser's, except that a usage error is one line (see `--help` for usage).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            guard code == .validationFailure else { exit(withError: error) }
            StandardStream.error("guestapi-admin: \(message(for: error)) (see --help)")
            exit(withError: ExitCode(code.rawValue))
        }
    }
}
