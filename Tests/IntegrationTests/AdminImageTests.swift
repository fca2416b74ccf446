import Foundation
import GuestStore
import Testing

@Suite("guestapi-admin image", .timeLimit(.minutes(3)))
struct AdminImageTests {
    /// A file of pseudo-random bytes to import, in the test's state folder.
    func makeImageFile(_ cli: AdminCLI, name: String = "alpine.tar.xz", size: Int = 300_000) throws -> String {
        let path = cli.state.directory + "/" + name
        var generator = SystemRandomNumberGenerator()
        try Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: path))
        return path
    }

    func sha256sum(_ path: String) throws -> String {
        let output = try Command("/usr/bin/sha256sum", [path]).run().requireSuccess().stdoutText
        return String(output.prefix(while: { $0 != " " }))
    }

    @Test func importStoresTheFileUnderItsSHA256() throws {
        let cli = try AdminCLI()
        let file = try makeImageFile(cli)

        let imported = try cli.json([ListedImage].self, "image", "import", file)

        let image = try #require(imported.first)
        #expect(image.fingerprint == (try sha256sum(file)))
        #expect(image.size == 300_000 && image.fileExtension == ".tar.xz" && !image.isPublic)
        let stored = cli.state.images + "/" + image.fingerprint
        #expect(FileManager.default.contentsEqual(atPath: stored, andPath: file))
        #expect(try cli.json([ListedImage].self, "image", "list") == [image])
    }

    @Test func importPublicMarksTheImagePublic() throws {
        let cli = try AdminCLI()
        let privateImage = try cli.json([ListedImage].self, "image", "import", try makeImageFile(cli, name: "a.img"))
        let publicImage = try cli.json([ListedImage].self, "image", "import", try makeImageFile(cli, name: "b.img"), "--public")

        let listed = try cli.json([ListedImage].self, "image", "list")
        #expect(Set(listed.map(\.fingerprint)) == Set((privateImage + publicImage).map(\.fingerprint)))
        #expect(listed.filter(\.isPublic).map(\.fingerprint) == publicImage.map(\.fingerprint))
        #expect(try cli.succeed("image", "list").contains("yes"))
    }

    @Test func deleteRemovesTheRecordAndTheFile() throws {
        let cli = try AdminCLI()
        let image = try #require(try cli.json([ListedImage].self, "image", "import", try makeImageFile(cli)).first)

        try cli.succeed("image", "delete", image.fingerprint)

        #expect(try cli.json([ListedImage].self, "image", "list").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: cli.state.images + "/" + image.fingerprint))
    }
}
