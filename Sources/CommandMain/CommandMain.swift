import ArgumentParser
import StandardStreams

/// How both executables run their command line (README, "Admin CLI"): an error is one line,
/// `NAME: what went wrong`, a usage error ends with `(see --help)` and exits 64, every other
/// failure exits as its command said; global options may come before the subcommand; a
/// mistyped subcommand is told the nearest one.
public enum CommandMain {
    /// Parses `arguments` (the command line without the program's name) with `Root`, runs the
    /// command, and exits. `globals`: options taking a value that every subcommand reads,
    /// moved after the subcommand when given before it.
    public static func run<Root: ParsableCommand>(_ root: Root.Type, name: String, arguments: [String], globals: Set<String> = []) -> Never
    {
        let arguments = reordered(arguments, globals: globals)
        if let unknown = unknownSubcommand(in: arguments, root: root) {
            StandardStream.error("\(name): \(unknown) (see --help)")
            root.exit(withError: ExitCode.validationFailure)
        }
        do {
            var command = try root.parseAsRoot(arguments)
            try command.run()
            root.exit()
        } catch {
            let code = root.exitCode(for: error)
            // Help, version and a command's own exit code: as ArgumentParser prints them.
            guard code == .validationFailure else { root.exit(withError: error) }
            StandardStream.error("\(name): \(root.message(for: error)) (see --help)")
            root.exit(withError: ExitCode.validationFailure)
        }
    }

    /// Global options before the first other argument go after the subcommand's words (and
    /// before a `--` that ends the options).
    static func reordered(_ arguments: [String], globals: Set<String>) -> [String] {
        var leading: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if globals.contains(argument), index + 1 < arguments.endIndex {
                leading += arguments[index...(index + 1)]
                index += 2
            } else if let equals = argument.firstIndex(of: "="), globals.contains(String(argument[..<equals])) {
                leading.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard !leading.isEmpty else { return arguments }
        var rest = Array(arguments[index...])
        rest.insert(contentsOf: leading, at: rest.firstIndex(of: "--") ?? rest.endIndex)
        return rest
    }

    /// "unknown command 'instnace' (did you mean 'instance'?)" when a word where a
    /// subcommand must be is none; nil when the words name commands (or options come first).
    static func unknownSubcommand(in arguments: [String], root: any ParsableCommand.Type) -> String? {
        var command = root
        for word in arguments {
            let subcommands = command.configuration.subcommands
            guard !word.hasPrefix("-"), !subcommands.isEmpty else { return nil }
            let names = subcommands.map { $0._commandName }
            if let next = subcommands.first(where: { $0._commandName == word }) {
                command = next
                continue
            }
            // A command with a default subcommand takes other words as the default's.
            if command.configuration.defaultSubcommand != nil || word == "help" { return nil }
            let near = names.map { (name: $0, distance: editDistance(word, $0)) }.min { $0.distance < $1.distance }
            let hint = near.flatMap { $0.distance <= 2 ? " (did you mean '\($0.name)'?)" : nil } ?? ""
            return "unknown command '\(word)'\(hint)"
        }
        return nil
    }

    /// Levenshtein distance, by characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
