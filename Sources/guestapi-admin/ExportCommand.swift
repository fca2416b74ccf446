import ArgumentParser
import GuestStore

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Print instances as an apply file: `export | apply -` changes nothing.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this instance (default: all).") var instance: String?

    func run() throws {
        try global.withStore(.read) { store in
            let instances = try instance.map { [try store.instance(named: $0)] } ?? store.instances()
            let records = try instances.map {
                InstanceRecord($0, config: try store.config(instanceID: $0.id), devices: try store.devices(instanceID: $0.id))
            }
            struct Document: Encodable { var instances: [InstanceRecord] }
            Output.json(Document(instances: records))
        }
    }
}
