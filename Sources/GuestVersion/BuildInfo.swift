/// What `--version` prints: the package's version and, when built from a git checkout, its commit.
public enum BuildInfo {
    public static let version = "0.2.0"
    public static let commit = buildCommit

    public static var description: String { commit == "unknown" ? version : "\(version) (\(commit))" }
}
