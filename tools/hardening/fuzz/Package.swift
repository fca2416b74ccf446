// swift-tools-version: 6.0
import PackageDescription

// The fuzzer (fuzz.sh builds and runs it): libFuzzer over what a guest's or an operator's
// bytes reach first, the daemon package's GuestParsers, built whole with the fuzzer's and
// AddressSanitizer's instrumentation. Two files are the daemon package's own, linked here,
// not copied: the parser feeder its unit tests use, and the CLI's --older-than parser (an
// executable's file, which no other package can import). A rename breaks this build, and
// CI builds it.
let package = Package(
    name: "guestapi-fuzz",
    dependencies: [
        .package(name: "guestapi", path: "../../.."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "guestapi-fuzz",
            dependencies: [
                .product(name: "GuestParsers", package: "guestapi"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        )
    ]
)
