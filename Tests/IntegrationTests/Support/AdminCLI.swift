import Foundation
import GuestStore
import Testing

/// `guestapi-admin`, the built binary, on a temporary state of its own.
///
/// Not Sendable: one test owns it (and its state).
final class AdminCLI {
    let state: TemporaryState

    init() throws { state = try TemporaryState() }

    /// Runs `guestapi-admin ARGUMENTS --state-dir STATE`: global options follow the subcommand.
    func run(_ arguments: [String], stdin: [UInt8]? = nil, environment: [String: String] = [:]) throws -> CommandResult {
        try Command(Binaries.admin, arguments + state.arguments, environment: environment, stdin: stdin).run()
    }

    /// Runs exactly `guestapi-admin ARGUMENTS`, the state given by `GUESTAPI_STATE_DIR`.
    func runLiteral(_ arguments: String..., environment: [String: String] = [:]) throws -> CommandResult {
        try Command(Binaries.admin, arguments, environment: state.environment.merging(environment) { $1 }).run()
    }

    /// Runs a command that must exit 0 without a word on stderr; returns its stdout.
    @discardableResult
    func succeed(
        _ arguments: String..., stdin: [UInt8]? = nil, environment: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        try succeed(arguments, stdin: stdin, environment: environment, sourceLocation: sourceLocation)
    }

    @discardableResult
    func succeed(
        _ arguments: [String], stdin: [UInt8]? = nil, environment: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        try expectSuccess(try run(arguments, stdin: stdin, environment: environment), sourceLocation: sourceLocation)
    }

    /// Runs a command with `--format json` and decodes its output.
    func json<T: Decodable>(
        _ type: T.Type, _ arguments: String...,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> T {
        let output = try expectSuccess(try run(arguments + ["--format", "json"]), sourceLocation: sourceLocation)
        return try JSONDecoder().decode(T.self, from: Data(output.utf8))
    }

    /// `journal --json` with `filters`, one record per line.
    func journal(_ filters: String..., sourceLocation: SourceLocation = #_sourceLocation) throws -> [JournalRecord] {
        let output = try expectSuccess(try run(["journal", "--json"] + filters), sourceLocation: sourceLocation)
        return try output.split(separator: "\n").map { try JSONDecoder().decode(JournalRecord.self, from: Data($0.utf8)) }
    }

    /// The instance as `instance show --format json` prints it.
    func show(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ShownInstance {
        try json(ShownInstance.self, "instance", "show", name, sourceLocation: sourceLocation)
    }

    func snapshot() throws -> DatabaseSnapshot { try DatabaseSnapshot(path: state.database) }

    @discardableResult
    private func expectSuccess(_ result: CommandResult, sourceLocation: SourceLocation) throws -> String {
        try #require(
            result.status == 0, "\(result.command) exited \(result.status): \(result.stderr)",
            sourceLocation: sourceLocation)
        #expect(result.stderr.isEmpty, "\(result.command) wrote on stderr: \(result.stderr)", sourceLocation: sourceLocation)
        return result.stdoutText
    }
}

/// One line of `guestapi-admin journal --json`.
struct JournalRecord: Decodable, Equatable {
    var id: Int
    var timestamp: String
    var instance: String
    var type: String
    var metadata: JSONValue

    var key: String? { metadata["key"]?.string }
    var action: String? { metadata["action"]?.string }
}

/// An instance in the CLI's JSON shape (`instance show|list --format json`, `export`).
struct ShownInstance: Decodable, Equatable {
    var name: String
    var type: String
    var pid: Int?
    var pidStartTime: Int?
    var cgroup: String?
    var container: String?
    var rootUID: Int
    /// Empty when left out (in listings).
    var config: [String: String]
    var devices: [String: [String: String]]
    var id: Int?
    var state: String?
    var pidnsInode: Int?
    var createdAt: String?

    enum CodingKeys: String, CodingKey {
        case name, type, pid, cgroup, container, config, devices, id, state
        case pidStartTime = "pid_start_time"
        case rootUID = "root_uid"
        case pidnsInode = "pidns_inode"
        case createdAt = "created_at"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        type = try c.decode(String.self, forKey: .type)
        pid = try c.decodeIfPresent(Int.self, forKey: .pid)
        pidStartTime = try c.decodeIfPresent(Int.self, forKey: .pidStartTime)
        cgroup = try c.decodeIfPresent(String.self, forKey: .cgroup)
        container = try c.decodeIfPresent(String.self, forKey: .container)
        rootUID = try c.decode(Int.self, forKey: .rootUID)
        config = try c.decodeIfPresent([String: String].self, forKey: .config) ?? [:]
        devices = try c.decodeIfPresent([String: [String: String]].self, forKey: .devices) ?? [:]
        id = try c.decodeIfPresent(Int.self, forKey: .id)
        state = try c.decodeIfPresent(String.self, forKey: .state)
        pidnsInode = try c.decodeIfPresent(Int.self, forKey: .pidnsInode)
        createdAt = try c.decodeIfPresent(String.self, forKey: .createdAt)
    }
}

/// An image in the CLI's JSON shape (`image list|import --format json`).
struct ListedImage: Decodable, Equatable {
    var fingerprint: String
    var size: Int
    var fileExtension: String
    var isPublic: Bool
    var createdAt: String

    enum CodingKeys: String, CodingKey {
        case fingerprint, size
        case fileExtension = "extension"
        case isPublic = "public"
        case createdAt = "created_at"
    }
}

extension AdminCLI {
    /// A state holding instance `c1` with `user.a=1` and a disk device `d1`: something to protect.
    static func populated() throws -> AdminCLI {
        let cli = try AdminCLI()
        try cli.succeed("instance", "create", "c1", "--config", "user.a=1")
        try cli.succeed("device", "add", "d1", "disk", "path=/mnt")
        return cli
    }
}
