/// Which journal entries to read.
public struct JournalQuery: Sendable {
    /// Which entries, by who may see them.
    public enum Visibility: Sendable {
        case all
        /// What a guest may see: `user.*` config, devices.
        case guest
    }

    public var instanceID: Int?
    /// Entries with an id greater than this.
    public var after: Int?
    public var kinds: Set<JournalEntry.Kind>?
    public var visibility = Visibility.all
    /// At most this many: the first after `after`, or else the newest.
    public var limit: Int?
    /// Stop after the entry that brings the values read to this many bytes (at least one entry
    /// is read): what a page may hold in memory, whatever the values' sizes.
    public var maxBytes: Int?

    public init(
        instanceID: Int? = nil, after: Int? = nil, kinds: Set<JournalEntry.Kind>? = nil,
        visibility: Visibility = .all, limit: Int? = nil, maxBytes: Int? = nil
    ) {
        self.instanceID = instanceID
        self.after = after
        self.kinds = kinds
        self.visibility = visibility
        self.limit = limit
        self.maxBytes = maxBytes
    }

    /// The WHERE clause and its values; kinds are sorted so equal queries share one statement.
    var filter: (sql: String, values: [SQLValue]) {
        var clauses: [String] = []
        var values: [SQLValue] = []
        if let instanceID {
            clauses.append("instance_id = ?")
            values.append(.int(instanceID))
        }
        if let after {
            clauses.append("id > ?")
            values.append(.int(after))
        }
        if let kinds {
            clauses.append("kind IN (\(kinds.map { "'\($0.rawValue)'" }.sorted().joined(separator: ",")))")
        }
        // As `JournalEntry.isGuestVisible` has it.
        let guest = "kind = 'device' OR (kind = 'config' AND name GLOB 'user.*')"
        switch visibility {
        case .all: break
        case .guest: clauses.append("(\(guest))")
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), values)
    }
}
