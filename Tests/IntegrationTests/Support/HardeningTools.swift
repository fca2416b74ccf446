import Foundation
import Testing

/// The hostile clients of tools/hardening/ (stdlib-only python scripts), found from this
/// file's place in the repository and run by Debian's `/usr/bin/python3` inside a guest, so
/// that the daemon resolves every connection they make to that guest.
enum HardeningTools {
    static let folder: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("tools/hardening").path
    }()

    static func path(_ name: String) -> String { folder + "/" + name }

    /// `python3 tools/hardening/SCRIPT ARGUMENTS` run by `process`; its stdout, one JSON value
    /// a line, decoded as `T`s. Lines that are not a `T` (a summary) are left to `lines`.
    static func run<T: Decodable>(
        _ type: T.Type, _ script: String, _ arguments: [String], in process: GuestProcess,
        timeout: TimeInterval = 60, allowFailure: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (values: [T], lines: [String]) {
        let output = try process.run(shellCommand(["/usr/bin/python3", path(script)] + arguments), timeout: timeout)
        if !allowFailure {
            try #require(
                output.status == 0 || output.status == 1,
                "\(script) exited \(output.status): \(output.stderr)", sourceLocation: sourceLocation)
        }
        let lines = output.text.split(separator: "\n").map(String.init)
        let values = lines.compactMap { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) }
        return (values, lines)
    }

    /// Starts `python3 tools/hardening/SCRIPT ARGUMENTS` in the background of `process`, its
    /// output going to `output`; returns its pid (in the process's PID namespace).
    static func start(_ script: String, _ arguments: [String], in process: GuestProcess, output: String) throws -> Int32 {
        let started = try process.run(shellCommand(["/usr/bin/python3", path(script)] + arguments) + " >\(output) 2>&1 & echo $!")
        guard let pid = Int32(started.text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw HardeningToolsError.notStarted(script, started.text + started.stderr)
        }
        return pid
    }

    /// The JSON lines a background script has printed so far, decoded as `T`s.
    static func lines<T: Decodable>(_ type: T.Type, in output: String) -> [T] {
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }

    /// Polls until a background script has printed a `T`; throws with its output after `timeout`.
    static func waitFor<T: Decodable>(_ type: T.Type, in output: String, timeout: TimeInterval = 60) throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let value = lines(T.self, in: output).first { return value }
            usleep(20_000)
        }
        throw HardeningToolsError.timedOut(output, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }
}

enum HardeningToolsError: Error, CustomStringConvertible {
    case notStarted(String, String)
    case timedOut(String, String)

    var description: String {
        switch self {
        case .notStarted(let script, let output): "\(script) did not start: \(output)"
        case .timedOut(let file, let output): "nothing came in \(file) in time; it holds: \(output)"
        }
    }
}

/// What /proc says about the daemon's use of the machine.
enum DaemonUsage {
    /// Resident memory in KiB (`VmRSS:` of /proc/PID/status).
    static func residentKiB(_ pid: Int32) -> Int? {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return line.flatMap { Int($0.split(whereSeparator: { $0 == " " || $0 == "\t" })[1]) }
    }

    /// Open file descriptors (entries of /proc/PID/fd).
    static func openDescriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }
}
