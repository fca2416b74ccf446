/// The journal: read in id order, pruned from the oldest end.
extension Store {
    private static let entryColumns = "id, ts_ns, instance_id, instance, kind, name, action, old_value, value"

    private static func entry(_ row: Row) -> JournalEntry {
        var entry = JournalEntry(
            id: row.int(0), timestampNs: row.int(1), instanceID: row.int(2), instance: row.text(3),
            kind: JournalEntry.Kind(rawValue: row.text(4)) ?? .lifecycle, name: row.optionalText(5),
            action: row.optionalText(6), oldValue: row.optionalBlob(7), value: row.optionalBlob(8))
        if row.count > 9, case let sizes = JournalEntry.ValueSizes(old: row.int(9), new: row.int(10)),
            entry.oldValue == nil && sizes.old > 0 || entry.value == nil && sizes.new > 0
        {
            entry.leftOut = sizes
        }
        return entry
    }

    /// A value's size in bytes, read from its row's header for a blob (as config values are
    /// stored), without reading the value.
    private static func size(_ column: String) -> String {
        "CASE typeof(\(column)) WHEN 'blob' THEN length(\(column)) WHEN 'null' THEN 0 ELSE length(CAST(\(column) AS BLOB)) END"
    }

    /// The columns of an entry whose values are read only if together they have at most
    /// `bytes`, with their sizes after them.
    private static func entryColumns(wholeUpTo bytes: Int) -> String {
        let large = "(\(size("old_value")) + \(size("value")) > \(bytes))"
        return "id, ts_ns, instance_id, instance, kind, name, action, CASE WHEN \(large) THEN NULL ELSE old_value END, "
            + "CASE WHEN \(large) THEN NULL ELSE value END, \(size("old_value")), \(size("value"))"
    }

    /// The entries a query selects; with `wholeUpTo`, an entry whose values have more bytes
    /// than that is read without them (`JournalEntry.leftOut`), for an event to send them in pieces.
    public func journal(_ query: JournalQuery, wholeUpTo: Int? = nil) throws -> [JournalEntry] {
        var entries: [JournalEntry] = []
        try select(wholeUpTo.map(Self.entryColumns(wholeUpTo:)) ?? Self.entryColumns, query) { row in
            let entry = Self.entry(row)
            entries.append(entry)
            return (entry.oldValue?.count ?? 0) + (entry.value?.count ?? 0)
        }
        return entries
    }

    /// The ids a query selects and the size of each one's values, without reading the values
    /// (SQLite takes a blob's length from its header): to read only what is not known yet.
    public func journalIDs(_ query: JournalQuery) throws -> [(id: Int, bytes: Int)] {
        var ids: [(id: Int, bytes: Int)] = []
        try select("id, coalesce(length(old_value), 0) + coalesce(length(value), 0)", query) { row in
            ids.append((row.int(0), row.int(1)))
            return row.int(1)
        }
        return ids
    }

    /// The entry with this id; nil when it was pruned. `wholeUpTo` as for `journal`.
    public func journalEntry(id: Int, wholeUpTo: Int? = nil) throws -> JournalEntry? {
        let columns = wholeUpTo.map(Self.entryColumns(wholeUpTo:)) ?? Self.entryColumns
        return try wrapped { try db.statement("SELECT \(columns) FROM journal WHERE id = ?").first(.int(id), transform: Self.entry) }
    }

    /// Runs the query, calling `body` for each row in id order; `body` returns the row's value
    /// bytes, which count towards `query.maxBytes`.
    private func select(_ columns: String, _ query: JournalQuery, _ body: (Row) -> Int) throws {
        let (filter, values) = query.filter
        var sql = "SELECT \(columns) FROM journal \(filter)"
        if let limit = query.limit, query.after == nil {
            sql = "SELECT * FROM (\(sql) ORDER BY id DESC LIMIT \(limit)) ORDER BY id"
        } else {
            sql += " ORDER BY id" + (query.limit.map { " LIMIT \($0)" } ?? "")
        }
        var bytes = 0
        try wrapped {
            try db.statement(sql).forEach(
                values,
                while: { row in
                    bytes += body(row)
                    return query.maxBytes.map { bytes < $0 } ?? true
                })
        }
    }

    /// The newest journal id, 0 when nothing was ever journaled.
    public func lastJournalID() throws -> Int {
        try wrapped { try db.integer("SELECT seq FROM sqlite_sequence WHERE name = 'journal'") ?? 0 }
    }

    /// The oldest id still kept; entries before it were pruned.
    public func firstKeptJournalID() throws -> Int {
        try wrapped {
            try db.integer("SELECT min(id) FROM journal") ?? (try db.integer("SELECT seq FROM sqlite_sequence WHERE name = 'journal'") ?? 0)
                + 1
        }
    }

    /// Throws `journalPruned` unless every entry after `since` is still in the journal.
    /// (Prunes take the oldest first and ids have no gaps: the first kept id tells.)
    public func checkReplayable(since: Int) throws {
        let firstKept = try firstKeptJournalID()
        if since < firstKept - 1 { throw StoreError.journalPruned(since: since, firstKept: firstKept) }
    }

    public enum PruneRule: Sendable {
        case keep(Int)
        case olderThan(nanoseconds: Int)
    }

    /// Deletes the oldest entries, in batches so that other writers wait at most one batch.
    /// Returns how many were deleted.
    @discardableResult
    public func pruneJournal(_ rule: PruneRule, batch: Int = 20_000) throws -> Int {
        let cutoff: Int = try wrapped {
            switch rule {
            case .keep(let n):
                // Ids are gap-free, so the newest n are the ids above max - n.
                let (cutoff, overflow) = (try db.integer("SELECT max(id) FROM journal") ?? 0).subtractingReportingOverflow(n)
                return overflow ? Int.min : cutoff + 1
            case .olderThan(let ns):
                let now = try db.integer("SELECT guestapi_now_ns()") ?? 0
                // Saturating: an age reaching before 1677 (Int64's nanoseconds) keeps everything.
                let (cutoff, overflow) = now.subtractingReportingOverflow(ns)
                return try db.integer("SELECT min(id) FROM journal WHERE ts_ns >= ?", .int(overflow ? Int.min : cutoff))
                    ?? (try db.integer("SELECT max(id) FROM journal") ?? 0) + 1
            }
        }
        var deleted = 0
        while true {
            let n = try write {
                try db.statement("DELETE FROM journal WHERE id IN (SELECT id FROM journal WHERE id < ? ORDER BY id LIMIT ?)")
                    .run(.int(cutoff), .int(batch))
                return db.changes
            }
            deleted += n
            if n < batch { return deleted }
        }
    }
}
