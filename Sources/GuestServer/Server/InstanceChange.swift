/// A committed change to an instance that its open connections must act on.
enum InstanceChange: Sendable, Equatable {
    /// Deleted or stopped, as the reason says: every connection and stream of it ends.
    case ended(String)
    /// Re-attached to a new init, or the database file reopened: a connection stays only if
    /// its instance is still there and its process still the instance's.
    case changed
}
