/// Results of reads, kept while the database stays as it was: what a query returned in a
/// snapshot of one revision (`Store.revision`) it returns in any snapshot of that revision.
/// The daemon reads the same few rows for every connection (its instance, the identity of
/// its callers' ancestors, the answers to its GETs); this answers them without SQLite.
/// Bounded: emptied when full, and when the revision moves.
public struct RevisionMemo<Key: Hashable, Value> {
    private var revision = -1
    private var values: [Key: Value] = [:]
    private let capacity: Int

    public init(capacity: Int = 4096) { self.capacity = capacity }

    /// The value kept for `key` in this revision, if any.
    public func value(for key: Key, revision: Int) -> Value? {
        revision == self.revision ? values[key] : nil
    }

    public mutating func keep(_ value: Value, for key: Key, revision: Int) {
        if revision != self.revision || values.count >= capacity {
            values.removeAll(keepingCapacity: true)
            self.revision = revision
        }
        values[key] = value
    }

    /// The value kept for `key` in this revision, or the one `compute` makes, then kept.
    mutating func value(for key: Key, revision: Int, compute: () throws -> Value) rethrows -> Value {
        if let known = value(for: key, revision: revision) { return known }
        let value = try compute()
        keep(value, for: key, revision: revision)
        return value
    }
}
