import ArgumentParser
import GuestStore

struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Import, list and delete images.",
        subcommands: [Import.self, List.self, Delete.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", abstract: "Import a file into the image store.")
        @OptionGroup var global: GlobalOptions
        @Argument var file: String
        @Flag(help: "Guests with security.guestapi.images=true may export it.") var `public` = false

        func run() throws {
            try global.withStore(.create) { store in
                let image = try store.importImage(file: file, isPublic: `public`)
                ImageCommand.print([image], format: global.format)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List images.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            try global.withStore(.read) { ImageCommand.print(try $0.images(), format: global.format) }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an image.")
        @OptionGroup var global: GlobalOptions
        @Argument var fingerprint: String

        func run() throws {
            try global.withStore { try $0.deleteImage(fingerprint: fingerprint) }
        }
    }

    static func print(_ images: [Image], format: GlobalOptions.Format) {
        if format == .json { return Output.json(images) }
        Output.table(
            ["FINGERPRINT", "SIZE", "EXTENSION", "PUBLIC"],
            images.map {
                [$0.fingerprint, String($0.size), $0.fileExtension, $0.isPublic ? "yes" : "no"]
            })
    }
}
