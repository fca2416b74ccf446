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

    /// Sets keys, up to `upsertBatch` per statement: each statement costs a statement journal
    /// (every write here runs triggers), whatever its number of rows. Changed keys are updated
    /// first, then new ones inserted, each in the order given; a key set to the bytes it has
    /// writes nothing. (Not one `INSERT … ON CONFLICT DO UPDATE`: an insert that turns into an
    /// update, or into nothing, still takes a row id from `config`'s AUTOINCREMENT sequence,
    /// and setting a value it has must change nothing.) Values are compared as bytes: the
    /// daemon's own (a UUID, a MAC) are stored as text, and the same bytes given back are no
    /// change. Every value is held to the maximum value size.
    func upsertConfig(instanceID: Int, _ items: [(key: String, value: [UInt8])]) throws {
        let limit = try maxValueSize()
        if let large = items.first(where: { $0.value.count > limit }) {
            throw StoreError.valueTooLarge(key: large.key, size: large.value.count, limit: limit)
        }
        var start = 0
        while start < items.count {
            let batch = items[start..<min(start + Self.upsertBatch, items.count)]
            let rows = repeatElement("(?, ?, ?)", count: batch.count).joined(separator: ", ")
            var values: [SQLValue] = []
            values.reserveCapacity(batch.count * 3)
            for (index, item) in batch.enumerated() { values += [.int(index), .text(item.key), .blob(item.value)] }
            try db.statement("""
                UPDATE config SET value = given.column3, version = version + 1
                FROM (VALUES \(rows)) AS given
                WHERE config.instance_id = ? AND config.key = given.column2
                  AND CAST(config.value AS BLOB) IS NOT CAST(given.column3 AS BLOB)
                """).run(values + [.int(instanceID)])
            try db.statement("""
                INSERT INTO config (instance_id, key, value)
                SELECT ?, given.column2, given.column3 FROM (VALUES \(rows)) AS given
                WHERE NOT EXISTS (SELECT 1 FROM config WHERE instance_id = ? AND key = given.column2)
                ORDER BY given.column1
                """).run([.int(instanceID)] + values + [.int(instanceID)])
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
