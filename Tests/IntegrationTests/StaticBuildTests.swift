import Foundation
import Testing

/// The release binaries run on a host without Swift (a container runtime calls guestapi-admin
/// as a hook wherever it runs): built with `--static-swift-stdlib`, they need no Swift runtime
/// library. `.ci/run` tests those binaries (GUESTAPI_BIN_DIR); a debug build links it
/// dynamically, and is not what this checks.
@Suite(.timeLimit(.minutes(3))) struct StaticBuildTests {
    static let underTest = ProcessInfo.processInfo.environment["GUESTAPI_BIN_DIR"].map { !$0.isEmpty } ?? false

    @Test(
        .enabled(if: underTest, "the binaries under test are this build's debug ones; .ci/run tests the static release build"),
        arguments: [Binaries.daemon, Binaries.admin])
    func theReleaseBinariesNeedNoSwiftLibrary(binary: String) throws {
        let libraries = try Command("/usr/bin/ldd", [binary]).run().requireSuccess().stdoutText

        for line in libraries.split(separator: "\n") {
            #expect(
                !line.contains("libswift") && !line.contains("Foundation") && !line.contains("libdispatch")
                    && !line.contains("libBlocksRuntime") && !line.contains("/opt/swift"), "\(binary) needs \(line)")
        }
        #expect(libraries.contains("libsqlite3"), "\(libraries)")
    }
}
