/// Config keys: raw bytes per key, journaled by the schema's triggers.
extension Store {
    public func setConfig(instance name: String?, key: String, value: [UInt8]) throws {
        try Validation.checkKey(key)
        try write {
            let target = try targetInstance(named: name)
            try upsertConfig(instanceID: target.id, key: key, value: value)
        }
    }

    public func unsetConfig(instance name: String?, key: String) throws {
        try Validation.checkKey(key)
        try write {
            let target = try targetInstance(named: name)
            try db.statement("DELETE FROM config WHERE instance_id = ? AND key = ?").run(.int(target.id), .text(key))
            if db.changes == 0 { throw StoreError.keyNotSet(key: key, instance: target.name) }
        }
    }

    /// Sets a key; an unchanged value writes (and journals) nothing.
    func upsertConfig(instanceID: Int, key: String, value: [UInt8]) throws {
        try upsertConfig(instanceID: instanceID, [(key, value)])
    }

    /// Sets keys in this order, up to `upsertBatch` per statement: each statement costs a
    /// statement journal (every write here runs triggers), whatever its number of rows. A key
    /// set to the bytes it has is left out before the insert: an insert that turns into an
    /// update, or into nothing, takes a row id from `config`'s AUTOINCREMENT sequence all the
    /// same, and setting what is there must change nothing. Values are compared as bytes: the
    /// daemon's own (a UUID, a MAC) are stored as text, and the same bytes given back are no
    /// change. A value that changes is held to the maximum value size.
    func upsertConfig(instanceID: Int, _ items: [(key: String, value: [UInt8])]) throws {
        let limit = try maxValueSize()
        for large in items where large.value.count > limit {
            // Unchanged, a value from before the maximum was lowered stays (`export | apply`).
            guard
                try db.integer(
                    "SELECT 1 FROM config WHERE instance_id = ? AND key = ? AND CAST(value AS BLOB) IS ?",
                    .int(instanceID), .text(large.key), .blob(large.value)) != nil
            else {
                throw StoreError.valueTooLarge(key: large.key, size: large.value.count, limit: limit)
            }
        }
        var start = 0
        while start < items.count {
            let batch = items[start..<min(start + Self.upsertBatch, items.count)]
            let rows = repeatElement("(?, ?, ?)", count: batch.count).joined(separator: ", ")
            var values: [SQLValue] = [.int(instanceID)]
            values.reserveCapacity(batch.count * 3 + 2)
            for (index, item) in batch.enumerated() { values += [.int(index), .text(item.key), .blob(item.value)] }
            try db.statement(
                """
                INSERT INTO config (instance_id, key, value)
                SELECT ?, given.column2, given.column3 FROM (VALUES \(rows)) AS given
                WHERE NOT EXISTS (SELECT 1 FROM config WHERE instance_id = ? AND key = given.column2
                                  AND CAST(value AS BLOB) IS CAST(given.column3 AS BLOB))
                ORDER BY given.column1
                ON CONFLICT (instance_id, key) DO UPDATE SET value = excluded.value, version = version + 1
                """
            ).run(values + [.int(instanceID)])
            start += batch.count
        }
    }

    /// Rows per multi-row INSERT: far below SQLite's limit on parameters (32,766).
    static let upsertBatch = 500

    public func config(instanceID: Int) throws -> [(key: String, value: [UInt8])] {
        try wrapped {
            try db.statement("SELECT key, value FROM config WHERE instance_id = ? ORDER BY key")
                .map(.int(instanceID)) { (key: $0.text(0), value: $0.blob(1)) }
        }
    }

    public func configValue(instanceID: Int, key: String) throws -> [UInt8]? {
        try wrapped {
            try db.statement("SELECT value FROM config WHERE instance_id = ? AND key = ?")
                .first(.int(instanceID), .text(key)) { $0.blob(0) }
        }
    }
}
