import Foundation

/// A process's CPU time (user + system) from `/proc/PID/stat`, in seconds.
struct CPUTime {
    let seconds: Double

    init(pid: Int32) {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // Fields after the command name, which ends with the last ')': utime and stime are the 12th and 13th.
        let fields = stat.split(separator: ")").last.map { $0.split(separator: " ") } ?? []
        let ticks = fields.count > 12 ? (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0) : 0
        seconds = ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func - (a: CPUTime, b: CPUTime) -> Double { a.seconds - b.seconds }
}
