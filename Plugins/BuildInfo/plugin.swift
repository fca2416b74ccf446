import Foundation
import PackagePlugin

/// Writes the checkout's git commit into the GuestVersion target (`BuildCommit.swift`) before
/// each build, rewriting it only when it changed; "unknown" outside a git checkout.
@main
struct BuildInfo: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder = context.pluginWorkDirectoryURL.appending(path: "generated")
        let script = #"""
            commit=$(git -C "$1" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
            line="let buildCommit = \"$commit\""
            mkdir -p "$2"
            [ "$(cat "$2/BuildCommit.swift" 2>/dev/null)" = "$line" ] || printf '%s\n' "$line" > "$2/BuildCommit.swift"
            """#
        return [
            .prebuildCommand(
                displayName: "Recording the git commit", executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "build-info", context.package.directoryURL.path, folder.path],
                outputFilesDirectory: folder)
        ]
    }
}
