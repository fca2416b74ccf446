import ArgumentParser
import Foundation
import GuestStore

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Make instances exactly as a JSON file describes, in one transaction.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The desired state, '-' for standard input.") var file: String
    @Flag(help: "Also delete instances the file does not list.") var prune = false

    func run() throws {
        try global.withStore { store in
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
            guard let data else { throw StoreError.io("cannot read \(file)") }
            let state: DesiredState
            do {
                state = try JSONDecoder().decode(DesiredState.self, from: data)
            } catch {
                throw StoreError.invalidArgument("\(file) is not a valid desired state: \(Self.describe(error))")
            }
            var identities: [String: InstanceIdentity] = [:]
            for item in state.instances where item.pid != nil || item.cgroup != nil {
                identities[item.name] = try Registration.identity(pid: item.pid, cgroup: item.cgroup)
            }
            let summary = try store.apply(state, identities: identities, prune: prune)
            if global.format == .json {
                return Output.json(["created": summary.created, "updated": summary.updated, "deleted": summary.deleted, "unchanged": summary.unchanged])
            }
            Output.line("created \(summary.created), updated \(summary.updated), deleted \(summary.deleted), unchanged \(summary.unchanged)")
        }
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context), DecodingError.keyNotFound(_, let context),
             DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return (path.isEmpty ? "" : path + ": ") + context.debugDescription
        default:
            return "\(error)"
        }
    }
}
