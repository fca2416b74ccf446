import Foundation
import GuestStore
import Testing

@testable import GuestServer

/// The loop's readers of large values: a budget for the loop and a share for each instance;
/// those that wait get readers instances in turn, each instance's oldest first.
@Suite("value readers")
struct ValueReadersTests {
    /// Real stores on a real database file (opened only when a reader is first needed).
    final class Folder {
        let path = NSTemporaryDirectory() + "value-readers-\(UUID().uuidString)"
        var opened = 0
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        func store() throws -> Store {
            opened += 1
            return try Store(path: path + "/guestapi.db", imagesDirectory: path + "/images")
        }
    }

    @Test func anInstanceGetsItsShareAndTheLoopItsBudget() throws {
        let folder = try Folder()
        let readers = ValueReaders(loopLimit: 3, instanceLimit: 2) { try folder.store() }
        let a1 = try #require(try readers.acquire(for: 1))
        let a2 = try #require(try readers.acquire(for: 1))
        #expect(try readers.acquire(for: 1) == nil, "instance 1 has its share")
        let b1 = try #require(try readers.acquire(for: 2))
        #expect(try readers.acquire(for: 3) == nil, "the loop has its budget")
        #expect(folder.opened == 3)
        readers.release(a1, for: 1)
        let c1 = try #require(try readers.acquire(for: 3))
        #expect(c1 === a1, "a reader let go of is used again, not a new connection")
        #expect(folder.opened == 3)
        _ = (a2, b1)
    }

    /// One instance waiting first never holds up another: each instance's line gets a turn.
    @Test func thoseWaitingGetReadersInstancesInTurn() throws {
        let folder = try Folder()
        let readers = ValueReaders(loopLimit: 2, instanceLimit: 2) { try folder.store() }
        var held = [try #require(try readers.acquire(for: 1)), try #require(try readers.acquire(for: 1))]
        var served: [String] = []
        func waiter(_ name: String, instance: Int) -> ValueReaders.Retry {
            {
                guard let reader = try? readers.acquire(for: instance) else { return false }
                held.append(reader)
                served.append(name)
                return true
            }
        }
        let tokens = (0..<4).map { _ in Token() }
        for (index, name) in ["a1", "a2", "a3"].enumerated() {
            readers.wait(for: 1, token: ObjectIdentifier(tokens[index]), waiter(name, instance: 1))
        }
        readers.wait(for: 2, token: ObjectIdentifier(tokens[3]), waiter("b1", instance: 2))
        readers.release(held.removeFirst(), for: 1)
        #expect(served == ["a1"], "the first in line of the first instance in turn")
        readers.release(held.removeFirst(), for: 1)
        #expect(served == ["a1", "b1"], "then the other instance, though instance 1 has more waiting")
        readers.release(held.removeFirst(), for: 1)
        #expect(served == ["a1", "b1", "a2"])
    }

    /// A waiter whose connection went is taken out of line: never asked again, never held.
    @Test func aWaiterThatLeftIsNotAskedAgain() throws {
        let folder = try Folder()
        let readers = ValueReaders(loopLimit: 1, instanceLimit: 1) { try folder.store() }
        let held = try #require(try readers.acquire(for: 1))
        let gone = Token()
        let staying = Token()
        var asked: [String] = []
        readers.wait(for: 2, token: ObjectIdentifier(gone)) {
            asked.append("gone")
            return true
        }
        readers.wait(for: 2, token: ObjectIdentifier(staying)) {
            asked.append("staying")
            return true
        }
        readers.cancel(ObjectIdentifier(gone), for: 2)
        readers.release(held, for: 1)
        #expect(asked == ["staying"])
    }

    final class Token {}
}
