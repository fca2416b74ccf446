import ArgumentParser
import CommandMain
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
            SettingsCommand.self, IdentityCommand.self, StatusCommand.self,
        ]
    )

    /// One-line errors, and `--state-dir`, `--db` and `--format` before the subcommand too.
    static func main() {
        CommandMain.run(
            GuestAPIAdmin.self, name: "guestapi-admin", arguments: Array(CommandLine.arguments.dropFirst()),
            globals: ["--state-dir", "--db", "--format"])
    }
}
