import Foundation

/// Tells every connection a process has to one database file whether the file can be used:
/// when it was removed, replaced or overwritten, each `Store` closes its connection and fails
/// with the fault; once a good file is back, each reopens it.
///
/// Sendable: the state is behind a lock. The stores follow it on their own threads, on their
/// next call (`Store.follow()`), so that a connection is only ever touched by its owner.
public final class DatabaseEpoch: @unchecked Sendable {
    public struct State: Sendable {
        /// Bumped on every change: a store that saw another number closes or reopens.
        public var number = 0
        /// Why the file cannot be used now; nil when it can.
        public var fault: StoreError?
    }

    private let lock = NSLock()
    private var value = State()

    public init() {}

    public var state: State { lock.withLock { value } }

    /// The file cannot be used: every store closes its connection and throws `fault`.
    public func fail(_ fault: StoreError) {
        lock.withLock {
            value.number += 1
            value.fault = fault
        }
    }

    /// A good file is at the path again: every store opens it anew.
    public func reopen() {
        lock.withLock {
            value.number += 1
            value.fault = nil
        }
    }
}
