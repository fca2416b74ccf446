import Crypto
import Foundation

/// Images: the bytes in `images/<fingerprint>`, the record in the database.
extension Store {
    /// Copies `file` into the image store under its SHA-256 and records it.
    public func importImage(file: String, isPublic: Bool) throws -> Image {
        guard let input = FileHandle(forReadingAtPath: file) else { throw StoreError.io("cannot read \(file)") }
        defer { try? input.close() }
        let temporary = imagesDirectory + "/.import-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
            let output = FileHandle(forWritingAtPath: temporary)
        else {
            throw StoreError.io("cannot write to the image store \(imagesDirectory)")
        }
        var keepFile = false
        defer { if !keepFile { try? FileManager.default.removeItem(atPath: temporary) } }
        var hasher = SHA256()
        var size = 0
        do {
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
                try output.write(contentsOf: chunk)
                size += chunk.count
            }
            try output.synchronize()
            try output.close()
        } catch {
            throw StoreError.io("cannot import \(file): \(error.localizedDescription)")
        }
        let fingerprint = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        let image = Image(
            fingerprint: fingerprint, size: size, fileExtension: Self.imageExtension(file),
            isPublic: isPublic, createdNanoseconds: 0)
        let path = imagesDirectory + "/" + fingerprint
        try write {
            if try db.integer("SELECT 1 FROM images WHERE fingerprint = ?", .text(fingerprint)) != nil {
                throw StoreError.invalidArgument("image \(fingerprint) already exists")
            }
            try db.statement("INSERT INTO images (fingerprint, size, extension, public, created_ns) VALUES (?, ?, ?, ?, guestapi_now_ns())")
                .run(.text(fingerprint), .int(size), .text(image.fileExtension), .int(isPublic ? 1 : 0))
            // Inside the transaction: if the rename fails, the row is rolled back.
            guard rename(temporary, path) == 0 else { throw StoreError.io("cannot move image into \(path)") }
            keepFile = true
        }
        return try self.image(fingerprint: fingerprint)
    }

    public func deleteImage(fingerprint: String) throws {
        try write {
            try db.statement("DELETE FROM images WHERE fingerprint = ?").run(.text(fingerprint))
            if db.changes == 0 { throw StoreError.imageNotFound(fingerprint) }
        }
        try? FileManager.default.removeItem(atPath: imagesDirectory + "/" + fingerprint)
    }

    public func images() throws -> [Image] {
        try wrapped { try db.statement("SELECT \(Self.imageColumns) FROM images ORDER BY fingerprint").map(transform: Self.image) }
    }

    public func image(fingerprint: String) throws -> Image {
        let found = try wrapped {
            try db.statement("SELECT \(Self.imageColumns) FROM images WHERE fingerprint = ?").first(
                .text(fingerprint), transform: Self.image)
        }
        guard let found else { throw StoreError.imageNotFound(fingerprint) }
        return found
    }

    public func imagePath(_ image: Image) -> String { imagesDirectory + "/" + image.fingerprint }

    static let imageColumns = "fingerprint, size, extension, public, created_ns"

    static func image(_ row: Row) -> Image {
        Image(
            fingerprint: row.text(0), size: row.int(1), fileExtension: row.text(2), isPublic: row.int(3) != 0,
            createdNanoseconds: row.int(4))
    }

    /// `alpine.tar.xz` → `.tar.xz`: everything from the first dot of the file name.
    static func imageExtension(_ file: String) -> String {
        let base = (file as NSString).lastPathComponent
        guard let dot = base.dropFirst().firstIndex(of: ".") else { return "" }
        return String(base[dot...])
    }
}
