import ArgumentParser
import CMalloc
import CommandMain
import Foundation
import GuestServer
import GuestStore
import GuestVersion
import HostProcess
import Logging
import StandardStreams

@main
struct GuestAPIDaemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guestapid",
        abstract: "Serve the Incus guest API (/dev/incus/sock) to every instance in the database.",
        version: BuildInfo.description)

    @Option(help: "State folder (env GUESTAPI_STATE_DIR).") var stateDir: String?
    @Option(help: "Database file (env GUESTAPI_DB).") var db: String?
    @Option(help: "Guest socket path (default STATE/guestapi/sock).") var socket: String?
    @Option(help: "The operator's socket: health, metrics, status (default STATE/admin.sock).") var adminSocket: String?
    @Option(parsing: .unconditional, help: "Open connections allowed per instance.") var maxConnsPerInstance = 256
    @Option(parsing: .unconditional, help: "Event loop threads (default: one per core).") var threads: Int?
    @Option(
        help: "trace, debug, info, notice, warning, error or critical.",
        transform: { text in
            guard let level = Logger.Level(rawValue: text) else { throw ValidationError("unknown log level \(text)") }
            return level
        }
    )
    var logLevel: Logger.Level = .info
    @Option(help: "logfmt (key=value) or json, one object a line.") var logFormat: LineLogHandler.Format = .logfmt

    /// Errors in one line, as guestapi-admin's.
    static func main() {
        CommandMain.run(GuestAPIDaemon.self, name: "guestapid", arguments: Array(CommandLine.arguments.dropFirst()))
    }

    func validate() throws {
        if maxConnsPerInstance < 1 { throw ValidationError("--max-conns-per-instance must be at least 1") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be between 1 and 256") }
    }

    func run() throws {
        // Event pages and big config values come and go in buffers of megabytes. glibc raises
        // its mmap threshold to the size of the largest freed buffer, after which such buffers
        // live in the heap and, freed, stay in the process; a fixed threshold keeps them mapped
        // on their own, so their memory goes back to the system when subscribers leave.
        mallopt(M_MMAP_THRESHOLD, 256 << 10)
        let (level, format) = (logLevel, logFormat)
        LoggingSystem.bootstrap { _ in LineLogHandler(format: format, level: level) }
        let logger = Logger(label: "guestapid")
        var paths = StatePaths(stateDirectory: stateDir, database: db, socket: socket)
        paths.adminSocketOverride = adminSocket
        var configuration = ServerConfiguration(paths: paths, location: ProcessInfo.processInfo.hostName)
        configuration.maxConnectionsPerInstance = maxConnsPerInstance
        if let threads { configuration.threads = threads }
        do {
            try GuestServer(configuration: configuration, logger: logger).run()
        } catch {
            StandardStream.error("guestapid: \(error)")
            throw ExitCode.failure
        }
    }
}

extension LineLogHandler.Format: ExpressibleByArgument {}
