import Foundation
import GuestStore

/// A fresh folder for database files, removed when the value goes away. Not Sendable: one test owns it.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "gueststore-test-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    /// A migrated store on `name` in this folder.
    func store(_ name: String = "guestapi.db") throws -> Store {
        try Store(path: file(name), imagesDirectory: file("images"))
    }

    /// A store holding one instance, `c1`.
    func storeWithInstance() throws -> Store {
        let store = try store()
        _ = try store.createInstance(name: "c1")
        return store
    }
}
