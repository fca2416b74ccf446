import ASCIINumbers

extension JSONWriter {
    /// `JournalEntry.rfc3339(nanoseconds:)`'s text, unquoted. Done by hand rather than with
    /// gmtime and String(format:), which cost most of an event's encoding in a replay: the
    /// date comes from the day number by Howard Hinnant's `civil_from_days`.
    public mutating func rfc3339(nanoseconds: Int) {
        let seconds = nanoseconds / 1_000_000_000
        var fraction = nanoseconds % 1_000_000_000  // negative before 1970: not shown, as before
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // March is 0
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        digits(UInt(year), width: 4)
        raw("-")
        digits(UInt(month), width: 2)
        raw("-")
        digits(UInt(day), width: 2)
        raw("T")
        digits(UInt(secondOfDay / 3600), width: 2)
        raw(":")
        digits(UInt(secondOfDay / 60 % 60), width: 2)
        raw(":")
        digits(UInt(secondOfDay % 60), width: 2)
        if fraction > 0 {
            var width = 9
            while fraction % 10 == 0 {
                fraction /= 10
                width -= 1
            }
            raw(".")
            digits(UInt(fraction), width: width)
        }
        raw("Z")
    }
}
