import ArgumentParser
import Foundation
import GuestStore
import HostProcess
import StandardStreams

/// Options every command takes (README, "Admin CLI").
struct GlobalOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Option(help: "State folder (env GUESTAPI_STATE_DIR).")
    var stateDir: String?

    @Option(help: "Database file (env GUESTAPI_DB).")
    var db: String?

    @Option(help: "Output format.")
    var format: Format = .table

    var paths: StatePaths { StatePaths(stateDirectory: stateDir, database: db) }

    /// Opens the store and runs `body`; every failure becomes one line on stderr and exit 1.
    /// This is the one place store errors become exit codes. Only commands that may make the
    /// state (`.create`) make it; the others need it there.
    func withStore<T>(_ access: Store.Access = .write, _ body: (Store) throws -> T) throws -> T {
        try withStoreIfAny(access, allowMissing: false) { try body($0!) }
    }

    /// The same, read-only, with nil when there is no state at all (`apply --dry-run`).
    func withStoreIfAny<T>(_ body: (Store?) throws -> T) throws -> T {
        try withStoreIfAny(.read, allowMissing: true, body)
    }

    private func withStoreIfAny<T>(_ access: Store.Access, allowMissing: Bool, _ body: (Store?) throws -> T) throws -> T {
        do {
            if allowMissing && !paths.exists { return try body(nil) }
            return try body(try Self.open(paths, access))
        } catch let error as StoreError {
            StandardStream.error("guestapi-admin: \(error)")
            throw ExitCode.failure
        }
    }
}

extension GlobalOptions {
    /// The store, told how to see whether a registered init still runs in its namespace.
    static func open(_ paths: StatePaths, _ access: Store.Access) throws -> Store {
        let store = try Store(paths: paths, access: access)
        store.initIsRunning = { pid, startTime, namespace in
            (try? ProcFS.stat(pid))??.startTime == startTime && (try? ProcFS.pidNamespaceInode(pid)) == namespace
        }
        return store
    }
}

/// The instance a command is about: `--instance`, else env GUESTAPI_INSTANCE, else the only one.
struct TargetOptions: ParsableArguments {
    @Option(help: "Target instance (env GUESTAPI_INSTANCE; default: the only instance).")
    var instance: String?

    var name: String? { instance ?? ProcessInfo.processInfo.environment["GUESTAPI_INSTANCE"] }
}
