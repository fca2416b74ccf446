import Testing

/// `journal prune --older-than`: whole numbers and a unit, checked, never trapping; anything
/// else is a usage error.
@Suite struct PruneAgeTests {
    @Test(arguments: ["0s", "90s", "30m", "24h", "007d", "106751d", "9223372036s"])
    func valid(text: String) throws {
        let cli = try AdminCLI.populated()
        try cli.succeed("journal", "prune", "--older-than", text)
    }

    @Test(arguments: [
        "", "s", "5", "5w", "-5s", "+5s", " 5s", "5 s", "106752d", "9223372037s", "99999999999d",
        "9223372036854775807s", "99999999999999999999s", "1.5h", "５s",
    ])
    func invalid(text: String) throws {
        let cli = try AdminCLI.populated()
        let result = try cli.run(["journal", "prune", "--older-than=\(text)"])
        // (An empty value is the argument parser's to refuse, as a missing one.)
        let said = text.isEmpty || result.stderr.contains("bad duration")
        #expect(result.status == 64 && said, "\(text): \(result.status) \(result.stderr)")
    }
}
