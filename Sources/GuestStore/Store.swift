import Foundation

/// The guestapi state: one SQLite file, migrated on open, and the image store beside it.
///
/// Not Sendable: it owns one `Database`. Every mutating method is one transaction.
public final class Store {
    public let db: Database
    public let imagesDirectory: String

    public init(path: String, imagesDirectory: String, readOnly: Bool = false) throws {
        do {
            db = try Database(path: path, readOnly: readOnly)
            if readOnly {
                let version = try db.integer("PRAGMA user_version") ?? 0
                if version > Migrator.standard.latestVersion {
                    throw StoreError.newerSchema(found: version, supported: Migrator.standard.latestVersion)
                }
            } else {
                try Migrator.standard.migrate(db)
            }
        } catch let error as SQLiteError {
            throw StoreError.sqlite(error)
        }
        self.imagesDirectory = imagesDirectory
    }

    public convenience init(paths: StatePaths, readOnly: Bool = false) throws {
        try paths.createDirectories(socket: false)
        try self.init(path: paths.database, imagesDirectory: paths.images, readOnly: readOnly)
    }

    /// Runs `body` as one write transaction, with SQLite failures as `StoreError`.
    func write<T>(_ body: () throws -> T) throws -> T {
        try wrapped { try db.write(body) }
    }

    func wrapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as SQLiteError { throw StoreError.sqlite(error) }
    }
}

extension Store {
    /// Changes whenever another connection (any process) commits.
    public func dataVersion() throws -> Int { try wrapped { try db.dataVersion() } }
}
