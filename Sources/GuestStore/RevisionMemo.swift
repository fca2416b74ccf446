/// Results of reads, kept while the database stays as it was: what a query returned in a
/// snapshot of one revision (`Store.revision`) it returns in any snapshot of that revision.
/// The daemon reads the same few rows for every connection (its instance, the identity of
/// its callers' ancestors); this answers them without SQLite. Bounded: emptied when full.
struct RevisionMemo<Key: Hashable, Value> {
    private var revision = -1
    private var values: [Key: Value] = [:]
    private let capacity = 4096

    mutating func value(for key: Key, revision: Int, compute: () throws -> Value) rethrows -> Value {
        if revision == self.revision, let known = values[key] { return known }
        let value = try compute()
        if revision != self.revision || values.count >= capacity {
            values.removeAll(keepingCapacity: true)
            self.revision = revision
        }
        values[key] = value
        return value
    }
}
