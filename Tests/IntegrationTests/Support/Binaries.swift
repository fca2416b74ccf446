import Foundation

/// Where the built executables are: next to the test bundle, or in `$GUESTAPI_BIN_DIR`.
enum Binaries {
    static let directory: String = {
        if let override = ProcessInfo.processInfo.environment["GUESTAPI_BIN_DIR"], !override.isEmpty {
            return override
        }
        // `swift test` runs the test bundle from the build folder, beside the products.
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }()

    static var admin: String { path("guestapi-admin") }
    static var daemon: String { path("guestapid") }

    static func path(_ name: String) -> String { directory + "/" + name }
}
