import GuestStore

/// A guest's `GET /1.0/events` request: which instance, which types, from where.
struct EventSubscription: Sendable {
    var instanceID: Int
    var kinds: Set<JournalEntry.Kind>
    /// Deliver entries with ids above this: the `since` id, or the journal's end for a live stream.
    var after: Int
    /// Replay mode (`since=` given): events carry their journal id.
    var withIDs: Bool

    /// Parses `type` and `since`; a pruned `since` is 410 Gone, before any upgrade.
    init(request: GuestRequest, instance: GuestInstance, store: Store) throws {
        instanceID = instance.id
        let types = request.query("type") ?? ""
        let names = types.isEmpty ? ["config", "device"] : types.split(separator: ",").map(String.init)
        // Unknown types never match and are not an error; lifecycle is never for guests.
        kinds = Set(names.compactMap { JournalEntry.Kind(rawValue: $0) }.filter { $0 != .lifecycle })
        switch request.query("since") {
        case nil:
            after = try store.lastJournalID()
            withIDs = false
        case "now":
            after = try store.lastJournalID()
            withIDs = true
        case let text?:
            guard let since = Int(text), since >= 0 else { throw GuestError.badRequest("invalid since \"\(text)\"") }
            do {
                try store.checkReplayable(since: since)
            } catch let error as StoreError {
                // Only a pruned id is Gone: a database that fails is not the client's position lost.
                guard case .journalPruned = error else { throw error }
                throw GuestError.gone("\(error)")
            }
            after = since
            withIDs = true
        }
    }

    func matches(_ entry: JournalEntry) -> Bool {
        entry.instanceID == instanceID && kinds.contains(entry.kind) && entry.isGuestVisible
    }

    static func response(for request: GuestRequest, instance: GuestInstance, store: Store) throws -> GuestResponse {
        let subscription = try EventSubscription(request: request, instance: instance, store: store)
        return GuestResponse(status: .ok, contentType: .json, body: .events(subscription))
    }
}
