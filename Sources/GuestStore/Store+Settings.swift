/// Host settings: what the host decides for every instance and every writer, kept in the
/// database so that every process that writes (the CLI, hooks, the daemon) holds to it.
extension Store {
    /// The settings there are, with their bounds.
    public enum Setting: String, CaseIterable, Sendable {
        /// The largest config value, in bytes. The schema holds every writer to it.
        case maxValueSize = "max-value-size"

        public var defaultValue: Int {
            switch self {
            case .maxValueSize: Store.defaultMaxValueSize
            }
        }

        public var range: ClosedRange<Int> {
            switch self {
            // SQLite refuses a row past 1 GB, and a change's journal row holds the old value and
            // the new one: 256 MiB leaves room for both.
            case .maxValueSize: 1024...(256 << 20)
            }
        }
    }

    public static let defaultMaxValueSize = 8 << 20

    /// The setting's value, or its default when unset.
    public func setting(_ setting: Setting) throws -> Int {
        try wrapped { try db.integer("SELECT value FROM settings WHERE name = ?", .text(setting.rawValue)) } ?? setting.defaultValue
    }

    /// The settings set, by name.
    public func settings() throws -> [(setting: Setting, value: Int, isDefault: Bool)] {
        let set = Dictionary(
            try wrapped {
                try db.statement("SELECT name, value FROM settings").map { ($0.text(0), $0.int(1)) }
            }, uniquingKeysWith: { $1 })
        return Setting.allCases.map { ($0, set[$0.rawValue] ?? $0.defaultValue, set[$0.rawValue] == nil) }
    }

    /// Sets (or with nil, unsets) a setting.
    public func setSetting(_ setting: Setting, _ value: Int?) throws {
        if let value, !setting.range.contains(value) {
            throw StoreError.invalidArgument("\(setting.rawValue) must be from \(setting.range.lowerBound) to \(setting.range.upperBound)")
        }
        try write {
            if let value {
                try db.statement("INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
                    .run(.text(setting.rawValue), .int(value))
            } else {
                try db.statement("DELETE FROM settings WHERE name = ?").run(.text(setting.rawValue))
            }
        }
    }

    /// The largest config value a writer may store.
    public func maxValueSize() throws -> Int { try setting(.maxValueSize) }
}
