import GuestHTTP
import GuestRoutes
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
        kinds = Set(EventQuery.kinds(request.query("type")).compactMap { JournalEntry.Kind(rawValue: $0.rawValue) })
        let since: EventQuery.Since?
        do {
            since = try EventQuery.since(request.query("since"))
        } catch {
            throw GuestError.badRequest(error.message)
        }
        let head = try store.lastJournalID()
        switch since {
        case nil:
            after = head
            withIDs = false
        case .now:
            after = head
            withIDs = true
        case .id(let id):
            // A future id would silently skip every event up to it.
            guard id <= head else { throw GuestError.badRequest("since \(id) is after the newest journal entry (\(head))") }
            do {
                try store.checkReplayable(since: id)
            } catch let error as StoreError {
                // Only a pruned id is Gone: a database that fails is not the client's position lost.
                guard case .journalPruned = error else { throw error }
                throw GuestError.gone("\(error)")
            }
            after = id
            withIDs = true
        }
    }

    static func response(for request: GuestRequest, instance: GuestInstance, store: Store) throws -> GuestResponse {
        let subscription = try EventSubscription(request: request, instance: instance, store: store)
        return GuestResponse(status: .ok, contentType: .json, body: .events(subscription))
    }
}
