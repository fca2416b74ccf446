import Foundation

/// Runs a shell command as a new process with a given pid number, by setting the kernel's
/// last allocated pid (`/proc/sys/kernel/ns_last_pid`) just below it and forking.
enum PIDRecycler {
    /// The command's output as a response, or nil if other processes took the pid every time.
    static func run(as pid: Int32, _ command: String, attempts: Int = 50) throws -> HTTPResponse? {
        let raced: Int32 = 75
        // The inner shell runs `command` only if it got the pid; `; exit` keeps dash from exec'ing it in place.
        let script =
            "echo \(pid - 1) > /proc/sys/kernel/ns_last_pid && "
            + "sh -c '[ \"$$\" = \(pid) ] || exit \(raced); exec \"$0\" -c \"$1\"' /bin/sh \(shellCommand([command])); exit $?"
        for _ in 0..<attempts {
            let result = try Command("/bin/sh", ["-c", script]).run()
            if result.status == raced { continue }
            try result.requireSuccess()
            return HTTPResponse(result.stdout)
        }
        return nil
    }
}
