import Foundation
import Testing

/// tools/deploy/install.sh into a folder (README, "Install on a host"): binaries that run
/// without Swift, stripped; units systemd accepts, sandboxed; every path in the shipped
/// files this install's; every file's mode its own whatever the umask; man pages that say
/// what the binaries do.
@Suite(.timeLimit(.minutes(3)))
struct InstallTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../tools/deploy/install.sh").standardized.path
    static let systemdAnalyze = "/usr/bin/systemd-analyze"

    /// The install, staged under `umask 000`, into PREFIX with its own state folder.
    final class Staged {
        let root: TemporaryState
        var prefix: String { root.directory + "/prefix" }
        var state: String { root.directory + "/state" }

        init(_ options: [String] = []) throws {
            root = try TemporaryState()
            let command = [
                "umask 000 && exec \"$0\" \"$@\"", InstallTests.script, "--prefix", prefix, "--state-dir", state,
                "--bin-dir", Binaries.directory,
            ]
            try Command("/bin/sh", ["-c"] + command + options).run(timeout: .seconds(60)).requireSuccess()
        }

        /// Each installed file and folder under the prefix, relative to it, with its mode.
        func modes() throws -> [String: Int] {
            var modes: [String: Int] = [:]
            let enumerator = try #require(FileManager.default.enumerator(atPath: prefix))
            while let path = enumerator.nextObject() as? String {
                var info = stat()
                guard lstat(prefix + "/" + path, &info) == 0 else { continue }
                modes[path] = Int(info.st_mode & 0o7777)
            }
            return modes
        }

        func text(_ path: String) throws -> String { try String(contentsOfFile: prefix + "/" + path, encoding: .utf8) }
    }

    @Test func everyFileHasItsModeWhateverTheUmask() throws {
        let staged = try Staged()
        let modes = try staged.modes()
        try #require(modes.count > 10, "\(modes)")
        for (path, mode) in modes {
            let binary = path.hasPrefix("bin/")
            var isFolder: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: staged.prefix + "/" + path, isDirectory: &isFolder)
            #expect(mode == (isFolder.boolValue || binary ? 0o755 : 0o644), "\(path): \(String(mode, radix: 8))")
        }
        var info = stat()
        #expect(stat(staged.state, &info) == 0 && info.st_mode & 0o7777 == 0o711, "the state folder is made 0711")
    }

    @Test func theBinariesAreStrippedAndRunWithoutSwift() throws {
        let staged = try Staged()
        for tool in ["guestapid", "guestapi-admin"] {
            let installed = staged.prefix + "/bin/" + tool
            let sections = try Command("/usr/bin/readelf", ["-S", "-W", installed]).run().requireSuccess().stdoutText
            #expect(!sections.contains(".debug_info") && !sections.contains(".symtab"), "\(tool) is not stripped")
            let result = try Command("/usr/bin/env", ["-i", installed, "--version"]).run()
            if StaticBuildTests.underTest {
                #expect(result.status == 0, "\(tool) does not run without Swift: \(result.stderr)")
            }
        }
    }

    /// Where gdb looks for a binary's debug link: /usr/lib/debug, then the binary's folder.
    @Test func debugInformationIsKeptApartWhenAskedFor() throws {
        let root = try TemporaryState()
        let command = [
            Self.script, "--destdir", root.directory, "--prefix", "/opt/guestapi", "--bin-dir", Binaries.directory, "--keep-debug",
        ]
        try Command(command[0], Array(command.dropFirst())).run(timeout: .seconds(60)).requireSuccess()
        for tool in ["guestapid", "guestapi-admin"] {
            let debug = root.directory + "/usr/lib/debug/opt/guestapi/bin/\(tool).debug"
            let sections = try Command("/usr/bin/readelf", ["-S", "-W", debug]).run().requireSuccess().stdoutText
            #expect(sections.contains(".symtab"), "\(debug) holds no symbols")
            let binary = try Command("/usr/bin/readelf", ["-S", "-W", root.directory + "/opt/guestapi/bin/" + tool]).run().stdoutText
            #expect(binary.contains(".gnu_debuglink"))
        }
    }

    /// Paths that would mean something to a shell, JSON or systemd, a state under a home the
    /// unit hides, and a state folder others may write, are refused before anything is
    /// written; a folder that is there keeps its mode.
    @Test(arguments: ["/srv/a$(id)b", "/srv/a b", "/srv/a\"b", "/srv/a%b", "/srv/../etc", "relative", "/home/guestapi", "SHARED"])
    func unsafeStateFoldersAreRefused(state: String) throws {
        let root = try TemporaryState()
        let shared = root.directory + "/shared"
        try FileManager.default.createDirectory(atPath: root.directory + "/shared", withIntermediateDirectories: true)
        chmod(shared, 0o1777)
        let path = state == "SHARED" ? "/shared" : state
        let result = try Command(
            Self.script, ["--destdir", root.directory, "--prefix", "/usr/local", "--state-dir", path, "--bin-dir", Binaries.directory]
        ).run()
        #expect(result.status == 2 && result.stderrLines.count == 1, "\(path): \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root.directory + "/usr"), "something was installed")
        var info = stat()
        #expect(stat(shared, &info) == 0 && info.st_mode & 0o7777 == 0o1777)
    }

    /// Units, runtime files and hooks name this install's binaries and state, not the defaults.
    @Test func everyShippedFileNamesThisInstallsPaths() throws {
        let staged = try Staged()
        let files =
            ["lib/systemd/system/guestapid.service", "lib/systemd/system/guestapid.socket"]
            + ["lxc.conf", "runc-config-fragment.json", "guestapi-hooks.json"].map { "share/guestapi/runtimes/" + $0 }
        for file in files {
            let text = try staged.text(file)
            #expect(!text.contains("/usr/local/") && !text.contains("/var/lib/guestapi"), "\(file) names a default path")
        }
        let service = try staged.text(files[0])
        #expect(service.contains("ExecStart=\(staged.prefix)/bin/guestapid --state-dir \(staged.state)\n"))
        #expect(service.contains("ReadWritePaths=\(staged.state)\n"))
        #expect(try staged.text(files[1]).contains("ListenStream=\(staged.state)/guestapi/sock\n"))
        let lxc = try staged.text(files[2])
        for place in ["dev/incus", "dev/lxd"] {
            #expect(lxc.contains("lxc.mount.entry = \(staged.state)/guestapi \(place) none bind,create=dir 0 0"))
        }
        #expect(lxc.contains("lxc.hook.start-host = \(staged.prefix)/bin/guestapi-admin hook lxc --state-dir \(staged.state)\n"))
        for json in files[3...] {
            let data = try #require(FileManager.default.contents(atPath: staged.prefix + "/" + json))
            #expect((try? JSONSerialization.jsonObject(with: data)) != nil, "\(json) is no JSON")
        }
        let completion = staged.prefix + "/share/bash-completion/completions/guestapi-admin"
        try Command("/bin/bash", ["-n", completion]).run().requireSuccess()
        #expect(try String(contentsOfFile: completion, encoding: .utf8).contains("hook"))
    }

    /// systemd accepts the units, and rates the service's sandbox at most 4.0 (an unsandboxed
    /// service is 9.6).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: systemdAnalyze), "systemd-analyze is not installed"))
    func theUnitsAreValidAndTheServiceSandboxed() throws {
        let staged = try Staged()
        let units = ["guestapid.socket", "guestapid.service"].map { staged.prefix + "/lib/systemd/system/" + $0 }
        let verified = try Command(Self.systemdAnalyze, ["verify", "--man=no"] + units).run()
        #expect(verified.status == 0 && verified.stderr.isEmpty, "\(verified.stderr)")
        let security = try Command(Self.systemdAnalyze, ["security", "--offline=true", "--no-pager", units[1]]).run().stdoutText
        let line = try #require(security.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(security)")
        let level = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }, "\(line)")
        #expect(level <= 4.0, "\(line)")
    }

    /// Each man page has the sections an operator looks for; guestapid's names every option
    /// `--help` lists, guestapi-admin's every command.
    @Test func theManPagesSayWhatTheBinariesDo() throws {
        let folder = URL(fileURLWithPath: Self.script).deletingLastPathComponent().path + "/man/"
        let daemonPage = try String(contentsOfFile: folder + "guestapid.8", encoding: .utf8)
        let adminPage = try String(contentsOfFile: folder + "guestapi-admin.8", encoding: .utf8)
        for page in [daemonPage, adminPage] {
            for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "FILES", "ENVIRONMENT", "SIGNALS", "EXIT STATUS"] {
                #expect(page.contains(".SH \(section)\n"), "no \(section)")
            }
        }
        let help = try Command(Binaries.daemon, ["--help"]).run().stdoutText
        let options = Set(
            help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "[" || $0 == "]" }).filter { $0.hasPrefix("--") })
        try #require(options.count > 8, "\(help)")
        for option in options {
            #expect(daemonPage.contains(option.replacingOccurrences(of: "-", with: "\\-")), "guestapid.8 does not name \(option)")
        }
        let adminHelp = try Command(Binaries.admin, ["--help"]).run().stdoutText
        let commands =
            adminHelp.components(separatedBy: "SUBCOMMANDS:").last?.split(separator: "\n")
            .compactMap { $0.hasPrefix("  ") && !$0.hasPrefix("   ") ? $0.split(separator: " ").first.map(String.init) : nil } ?? []
        try #require(commands.count > 10, "\(adminHelp)")
        for command in commands where command != "See" {
            #expect(adminPage.contains(command), "guestapi-admin.8 does not name \(command)")
        }
    }
}
