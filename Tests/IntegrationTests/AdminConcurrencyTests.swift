import Testing

@Suite("guestapi-admin writers in parallel", .timeLimit(.minutes(3)))
struct AdminConcurrencyTests {
    static let writers = 8
    static let changesPerWriter = 50

    /// Each writer is a shell running `guestapi-admin set user.wW vI` for I in 1...50, counting failures.
    static let writerScript = """
        failed=0; i=1
        while [ $i -le \(changesPerWriter) ]; do
          "$ADMIN" set "user.w$W" "v$i" --state-dir "$STATE" || failed=$((failed + 1))
          i=$((i + 1))
        done
        exit $failed
        """

    @Test func everyChangeIsJournaledGapFree() throws {
        let cli = try AdminCLI()
        try cli.succeed("instance", "create", "c1")

        let running = try (0..<Self.writers).map { w in
            try Command(
                "/bin/sh", ["-c", Self.writerScript],
                environment: ["ADMIN": Binaries.admin, "STATE": cli.state.directory, "W": String(w)]
            ).start()
        }
        let results = try running.map { try $0.wait(timeout: .seconds(120)) }

        for result in results {
            #expect(result.status == 0, "\(result.status) failed sets")
            #expect(result.stderr.isEmpty, "\(result.stderr)")
            #expect(!result.stderr.contains("database is locked"))
        }
        let journal = try cli.journal()
        #expect(journal.map(\.id) == Array(1..<journal.count + 1), "journal ids have a gap")
        for w in 0..<Self.writers {
            let values = journal.filter { $0.key == "user.w\(w)" }.map { $0.metadata["value"]?.string ?? "" }
            #expect(values == (1...Self.changesPerWriter).map { "v\($0)" })
        }
        #expect(journal.filter { $0.key?.hasPrefix("user.w") == true }.count == Self.writers * Self.changesPerWriter)
    }
}
