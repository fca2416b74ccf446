import ASCIINumbers

/// An age given on the command line (`journal prune --older-than 7d`): a whole number of
/// seconds, minutes, hours or days. Parsed strictly and checked: a number too large for
/// nanoseconds is refused, never wrapped or trapped on. The fuzzer's package links this file
/// too (tools/hardening/fuzz).
enum Age {
    /// Nanoseconds, or nil for anything but digits and one of `s`, `m`, `h`, `d` (or too large).
    static func nanoseconds(_ text: String) -> Int? {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last.flatMap({ units[$0] }) else { return nil }
        guard let value = Int(ascii: text.utf8.dropLast()) else { return nil }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: unit)
        let (nanoseconds, overflowNs) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow || overflowNs ? nil : nanoseconds
    }
}
