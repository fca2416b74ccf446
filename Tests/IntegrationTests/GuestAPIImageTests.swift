import Foundation
import GuestStore
import Testing

/// README, "What a guest sees": `GET /1.0/images/{fingerprint}/export`.
@Suite(.timeLimit(.minutes(3))) struct GuestAPIImageTests {
    static let size = 1000

    /// Imports a file of `size` bytes named `NAME.tar.xz` (the bytes depend on the name).
    @discardableResult
    static func importImage(_ host: GuestHost, isPublic: Bool, name: String = "image") throws -> ListedImage {
        let path = host.state.directory + "/\(name).tar.xz"
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ name.utf8.count &* 7) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let output = try host.cli.succeed(["image", "import", path, "--format", "json"] + (isPublic ? ["--public"] : []))
        return try #require(try JSONDecoder().decode([ListedImage].self, from: Data(output.utf8)).first)
    }

    static func bytes(_ host: GuestHost, _ image: ListedImage) throws -> [UInt8] {
        Array(try #require(FileManager.default.contents(atPath: host.state.images + "/" + image.fingerprint)))
    }

    static func notFound(_ fingerprint: String) -> Answer {
        .json(
            #"{"type":"error","status":"","status_code":0,"operation":"","error_code":404,"#
                + #""error":"Image \"\#(fingerprint)\" not found","metadata":null}"#, status: 404)
    }

    static func export(_ image: ListedImage) -> String { "/1.0/images/\(image.fingerprint)/export" }

    @Test(arguments: [[], ["--config", "security.guestapi.images=false"], ["--config", "security.guestapi.images=no"]])
    func exportNeedsTheImagesSwitch(options: [String]) throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", options: options)
        let image = try Self.importImage(host, isPublic: true)

        #expect(try guest.answer(Self.export(image)) == .notAuthorized)
    }

    @Test func exportSendsThePublicImageWhole() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "security.guestapi.images=true")
        let image = try Self.importImage(host, isPublic: true)

        let response = try guest.request(Self.export(image))

        #expect(Answer(response) == .raw(try Self.bytes(host, image)))
        #expect(response.header("Content-Length") == String(Self.size))
        #expect(response.header("Content-Disposition") == "inline;filename=\(image.fingerprint).tar.xz")
    }

    @Test(arguments: [("bytes=2-5", 2...5), ("bytes=995-", 995...999), ("bytes=-3", 997...999), ("bytes=998-5000", 998...999)])
    func exportSendsARange(range: String, expected: ClosedRange<Int>) throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "security.guestapi.images=true")
        let image = try Self.importImage(host, isPublic: true)

        let response = try guest.request(Self.export(image), "-H", "Range: \(range)")

        #expect(Answer(response) == .raw(Array(try Self.bytes(host, image)[expected]), status: 206))
        #expect(response.header("Content-Range") == "bytes \(expected.lowerBound)-\(expected.upperBound)/\(Self.size)")
    }

    /// Several ranges: the whole file, 200 (RFC 9110 lets a server ignore Range; Incus would
    /// send multipart), never 416 for a request that is valid.
    @Test func severalRangesGetTheWholeFile() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "security.guestapi.images=true")
        let image = try Self.importImage(host, isPublic: true)

        let response = try guest.request(Self.export(image), "-H", "Range: bytes=0-1,4-5")

        #expect(Answer(response) == .raw(try Self.bytes(host, image)))
        #expect(response.header("Content-Range") == nil)
    }

    @Test func unknownFingerprintIsTheIncusErrorEnvelope() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "security.guestapi.images=true")
        let image = try Self.importImage(host, isPublic: true)
        let unknown = String(repeating: "ab", count: 32)

        #expect(try guest.answer("/1.0/images/\(unknown)/export") == Self.notFound(unknown))
        // Exactly that fingerprint: a prefix or another case names no image.
        let prefix = String(image.fingerprint.prefix(12))
        #expect(try guest.answer("/1.0/images/\(prefix)/export") == Self.notFound(prefix))
        #expect(try guest.answer("/1.0/images/\(image.fingerprint.uppercased())/export") == Self.notFound(image.fingerprint.uppercased()))
    }

    @Test func privateImageIsNotFound() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "security.guestapi.images=true")
        let image = try Self.importImage(host, isPublic: false)

        #expect(try guest.answer(Self.export(image)) == Self.notFound(image.fingerprint))
    }
}
