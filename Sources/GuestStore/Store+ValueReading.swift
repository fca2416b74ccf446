/// Reading one large value (a config value, or a journal entry's, for an event) in pieces, as
/// the peer of a guest connection takes them: on a connection of its own (not a loop's reader,
/// whose snapshot ends with every loop tick), in one read transaction from `beginValue` to
/// `endValue`, so that every piece is of the same committed value, and each costs only the
/// pages that hold it.
extension Store {
    /// Begins reading `value`: false, and nothing held, when the value is not that one any
    /// more (a config value changed or removed since it was looked up, a journal entry pruned).
    /// The snapshot is held until `endValue`.
    public func beginValue(_ value: ValueSource) throws -> Bool {
        precondition(!inSnapshot && blob == nil, "one value at a time, outside the loop's snapshots")
        return try wrapped {
            // Another file in the database's place holds other rows under the same ids.
            guard fileEpoch == value.fileEpoch else { return false }
            try db.execute("BEGIN")
            do {
                let (table, column, row): (String, String, Int)
                switch value {
                case .config(let stored):
                    let version = try db.integer(
                        "SELECT version FROM config WHERE id = ? AND instance_id = ? AND key = ?",
                        .int(stored.row), .int(stored.instanceID), .text(stored.key))
                    guard version == stored.version else {
                        try db.execute("COMMIT")
                        return false
                    }
                    (table, column, row) = ("config", "value", stored.row)
                case .journal(let entry):
                    guard try db.integer("SELECT 1 FROM journal WHERE id = ?", .int(entry.id)) != nil else {
                        try db.execute("COMMIT")
                        return false
                    }
                    (table, column, row) = ("journal", entry.old ? "old_value" : "value", entry.id)
                }
                blob = try db.openBlob(table: table, column: column, row: row)
                beganValue = value
                return true
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// `buffer.count` bytes of the value begun, from `offset`.
    public func readValue(offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard let blob, let value = beganValue else { preconditionFailure("no value begun") }
        precondition(offset >= 0 && buffer.count <= value.size - offset, "a read past the value's end")
        try Self.wrap(path) { try blob.read(offset: offset, into: buffer) }
    }

    /// Lets go of the value and its snapshot.
    public func endValue() {
        guard blob != nil else { return }
        blob = nil
        beganValue = nil
        if (try? db.execute("COMMIT")) == nil, db.inTransaction { try? db.execute("ROLLBACK") }
    }
}
