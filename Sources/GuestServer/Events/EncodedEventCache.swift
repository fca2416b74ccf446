import GuestStore

/// Encoded events by journal id and form, at most `limit` bytes of them; the oldest go first.
/// The database file is part of the key: a file put back from a copy may hold another history
/// under the same ids. Not Sendable: `ReplayReader`'s thread owns it.
struct EncodedEventCache {
    struct Key: Hashable {
        var id: Int
        var withID: Bool
        var file: Int
    }

    private let limit: Int
    private var events: [Key: EncodedEvent] = [:]
    private var order: [Key] = []
    private var oldest = 0
    private var bytes = 0

    init(limit: Int) { self.limit = limit }

    subscript(key: Key) -> EncodedEvent? {
        get { events[key] }
        set {
            guard let event = newValue, events[key] == nil else { return }
            let size = event.bytes(withID: key.withID)
            guard size <= limit else { return }
            events[key] = event
            order.append(key)
            bytes += size
            while bytes > limit, oldest < order.count {
                if let gone = events.removeValue(forKey: order[oldest]) { bytes -= gone.bytes(withID: order[oldest].withID) }
                oldest += 1
            }
            if oldest > 4096 && oldest * 2 > order.count {
                order.removeFirst(oldest)
                oldest = 0
            }
        }
    }
}
