import ArgumentParser

@main
struct GuestAPIAdmin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guestapi-admin",
        abstract: "Manage guestapi's instances, config, devices, images and journal.",
        discussion: "Writes the database directly; a running guestapid reflects each change at once.",
        subcommands: [
            InstanceCommand.self,
            SetCommand.self, UnsetCommand.self, GetCommand.self, ConfigCommand.self,
            DeviceCommand.self, ImageCommand.self, JournalCommand.self, ApplyCommand.self,
        ]
    )
}
