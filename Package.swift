// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "guestapi",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "guestapid", targets: ["guestapid"]),
        .executable(name: "guestapi-admin", targets: ["guestapi-admin"]),
        // What a guest's or an operator's bytes reach first: for the fuzzer's package
        // (tools/hardening/fuzz), which builds them with libFuzzer's instrumentation.
        .library(name: "GuestParsers", targets: ["ASCIINumbers", "GuestHTTP", "GuestJSON", "GuestRoutes"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // The C boundary: SQLite from Debian's libsqlite3-dev, plus a shim for what Swift cannot import.
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // glibc's malloc tuning, for the daemon's memory to go back to the system.
        .systemLibrary(name: "CMalloc"),
        // The SQL migrations, embedded so the binaries run from any folder.
        .target(
            name: "GuestMigrations",
            path: "Migrations",
            resources: [
                .embedInCode("v0001_schema.sql"),
                .embedInCode("v0002_stable_ids.sql"),
                .embedInCode("v0003_device_volatile.sql"),
                .embedInCode("v0004_stopped.sql"),
                .embedInCode("v0005_device_volatile_exact.sql"),
                .embedInCode("v0006_container_owner.sql"),
                .embedInCode("v0007_config_values.sql"),
                .embedInCode("v0008_config_digests.sql"),
            ]
        ),
        // Numbers in ASCII, read and written: one copy for every target below. Depends on nothing.
        .target(name: "ASCIINumbers"),
        // JSON as guests and the CLI see it: the one reader (JSONText) and the writer in Go's
        // escaping, which a large value's events use a piece at a time.
        .target(name: "GuestJSON", dependencies: ["ASCIINumbers"]),
        // Writing to this process's stdout and stderr without trapping. Depends on nothing.
        .target(name: "StandardStreams"),
        // How both executables run their command line: one-line errors and exit codes,
        // global options before the subcommand, a suggestion for a mistyped one.
        .target(
            name: "CommandMain",
            dependencies: [
                "StandardStreams",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Everything that lives in the database. Never imports NIO.
        .target(
            name: "GuestStore",
            dependencies: [
                "ASCIINumbers", "CSQLite", "GuestJSON", "GuestMigrations",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The version and git commit `--version` prints; the plugin records the commit.
        .plugin(name: "BuildInfo", capability: .buildTool(), path: "Plugins/BuildInfo"),
        .target(name: "GuestVersion", plugins: ["BuildInfo"]),
        // What /proc says about a process: how instances are registered and recognized.
        .target(name: "HostProcess", dependencies: ["ASCIINumbers"]),
        // HTTP/1.1 as guests speak it: request framing, and the head of each answer. Knows
        // nothing of the API, the store or the server.
        .target(
            name: "GuestHTTP",
            dependencies: [
                "ASCIINumbers",
                .product(name: "NIOCore", package: "swift-nio"),
                // HTTPMethod and HTTPResponseStatus; not its codec.
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // What a guest asks for: the API's paths and the events query, parsed from a request's
        // target. No I/O; fuzzed with GuestHTTP and GuestJSON (tools/hardening/fuzz).
        .target(
            name: "GuestRoutes",
            dependencies: [
                "ASCIINumbers", "GuestHTTP",
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Workload identity: the signing keys (files only root reads), tokens (compact JWS,
        // ES256 through swift-crypto), the key set and the discovery document.
        .target(
            name: "GuestIdentity",
            dependencies: [
                "GuestJSON",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The guest protocol over a Unix socket. Never imports SQLite.
        .target(
            name: "GuestServer",
            dependencies: [
                "ASCIINumbers", "GuestHTTP", "GuestIdentity", "GuestJSON", "GuestRoutes", "GuestStore", "GuestVersion", "HostProcess",
                "StandardStreams",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                // SHA-1 for the WebSocket handshake's accept value.
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "guestapid",
            dependencies: [
                "CMalloc", "CommandMain", "GuestServer", "GuestStore", "GuestVersion", "StandardStreams",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "guestapi-admin",
            dependencies: [
                "ASCIINumbers", "CommandMain", "GuestIdentity", "GuestJSON", "GuestStore", "GuestVersion", "HostProcess",
                "StandardStreams",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "GuestStoreTests",
            dependencies: ["GuestJSON", "GuestStore"],
            // Databases written by released builds, read through #filePath.
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "GuestJSONTests", dependencies: ["GuestJSON"]),
        .testTarget(
            name: "GuestHTTPTests",
            dependencies: [
                "GuestHTTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "GuestServerTests",
            dependencies: [
                "GuestHTTP", "GuestRoutes", "GuestServer", "GuestStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["GuestJSON", "GuestStore", "HostProcess", "guestapid", "guestapi-admin"]
        ),
    ]
)
