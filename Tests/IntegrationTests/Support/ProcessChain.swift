import Foundation

/// `tools/stall/chain.c`, built once per test run: `chain DEPTH COMMAND…` runs COMMAND as the
/// last of DEPTH nested processes, a caller as deep as a hostile guest can make one.
enum ProcessChain {
    private static let built: Result<String, Error> = Result {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../tools/stall/chain.c").standardized.path
        let program = NSTemporaryDirectory() + "guestapi-chain-\(getpid())"
        try Command("/usr/bin/gcc", ["-O2", "-o", program, source]).run(timeout: .seconds(60)).requireSuccess()
        return program
    }

    /// The built program's path.
    static func program() throws -> String { try built.get() }
}
