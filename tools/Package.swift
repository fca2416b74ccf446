// swift-tools-version: 6.0
import PackageDescription

// The benchmarks' programs, apart from the daemon's package so that neither a user's build
// nor CI compiles them: `swift build -c release --package-path tools` (the bench-*.sh scripts
// do it when they need them).
let package = Package(
    name: "guestapi-tools",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "guestapi-load", targets: ["guestapi-load"]),
        .executable(name: "guestapi-floor", targets: ["guestapi-floor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Load generator: keep-alive or one request per connection, over a Unix socket.
        .executableTarget(
            name: "guestapi-load",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "load"
        ),
        // The reference server of bench-http.sh --floor: SwiftNIO alone.
        .executableTarget(
            name: "guestapi-floor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "floor"
        ),
    ]
)
