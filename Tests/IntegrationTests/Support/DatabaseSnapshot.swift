@testable import GuestStore

/// The whole content of a guestapi database: the schema, the schema version and every row of
/// every table (sqlite_sequence included), each value as SQLite's `quote()` prints it, so type
/// and exact bytes count. Two snapshots are equal exactly when the content is.
struct DatabaseSnapshot: Equatable, CustomStringConvertible {
    var userVersion: Int
    /// Table name → its rows, sorted; `sqlite_master` holds the schema itself.
    var tables: [String: [String]]

    /// Reads through a read-only connection, in one read transaction.
    init(path: String) throws {
        let db = try Database(path: path, readOnly: true)
        (userVersion, tables) = try db.read {
            let version = try db.integer("PRAGMA user_version") ?? 0
            let names = try db.statement("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                .map { $0.text(0) }
            var tables = ["sqlite_master": try Self.rows(db, table: "sqlite_master", columns: ["type", "name", "tbl_name", "sql"])]
            for name in names {
                let columns = try db.statement("SELECT name FROM pragma_table_info(?) ORDER BY cid").map(.text(name)) { $0.text(0) }
                tables[name] = try Self.rows(db, table: name, columns: columns)
            }
            return (version, tables)
        }
    }

    func rows(_ table: String) -> [String] { tables[table] ?? [] }
    func count(_ table: String) -> Int { rows(table).count }

    var description: String {
        "user_version \(userVersion)\n"
            + tables.keys.sorted().map { name in
                "\(name) (\(count(name)) rows)\n" + rows(name).map { "  " + $0.prefix(200) }.joined(separator: "\n")
            }.joined(separator: "\n")
    }

    private static func rows(_ db: Database, table: String, columns: [String]) throws -> [String] {
        let values = columns.map { "quote(\(identifier($0)))" }.joined(separator: " || '|' || ")
        return try db.statement("SELECT \(values) FROM \(identifier(table)) ORDER BY 1").map { $0.text(0) }
    }

    private static func identifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
