/// Which journal entries to read.
public struct JournalQuery: Sendable {
    public var instanceID: Int?
    /// Entries with an id greater than this.
    public var after: Int?
    public var kinds: Set<JournalEntry.Kind>?
    /// Only what a guest may see (`user.*` config, devices).
    public var guestVisibleOnly = false
    /// At most this many: the first after `after`, or else the newest.
    public var limit: Int?

    public init(instanceID: Int? = nil, after: Int? = nil, kinds: Set<JournalEntry.Kind>? = nil,
                guestVisibleOnly: Bool = false, limit: Int? = nil) {
        self.instanceID = instanceID
        self.after = after
        self.kinds = kinds
        self.guestVisibleOnly = guestVisibleOnly
        self.limit = limit
    }

    /// The WHERE clause and its values; kinds are sorted so equal queries share one statement.
    var filter: (sql: String, values: [SQLValue]) {
        var clauses: [String] = []
        var values: [SQLValue] = []
        if let instanceID { clauses.append("instance_id = ?"); values.append(.int(instanceID)) }
        if let after { clauses.append("id > ?"); values.append(.int(after)) }
        if let kinds {
            clauses.append("kind IN (\(kinds.map { "'\($0.rawValue)'" }.sorted().joined(separator: ",")))")
        }
        if guestVisibleOnly {
            clauses.append("(kind = 'device' OR (kind = 'config' AND name GLOB 'user.*'))")
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), values)
    }
}
