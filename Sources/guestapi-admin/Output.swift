import Foundation
import GuestStore
import HostProcess
import StandardStreams

/// Printing results as aligned tables or JSON.
enum Output {
    /// To stdout; a result that cannot be written is an error (one line, exit 1), not a trap.
    static func write(_ bytes: some Sequence<UInt8>) {
        guard let failure = StandardStream.write(Array(bytes), to: STDOUT_FILENO) else { return }
        StandardStream.error("guestapi-admin: cannot write the output: \(String(cString: strerror(failure)))")
        exit(1)
    }

    static func line(_ text: String) { write(Array((text + "\n").utf8)) }

    /// Columns padded to their widest cell; the last column is not padded.
    static func table(_ header: [String], _ rows: [[String]]) {
        let widths = widths(header, rows)
        for row in [header] + rows { line(padded(row, widths)) }
    }

    /// Each column's widest cell.
    static func widths(_ header: [String], _ rows: [[String]]) -> [Int] {
        header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    }

    /// One row, each cell but the last padded to its column's width (a longer cell is kept
    /// whole, and pushes the rest of its row along).
    static func padded(_ row: [String], _ widths: [Int]) -> String {
        row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell + String(repeating: " ", count: max(0, widths[i] - cell.count))
        }.joined(separator: "  ")
    }

    /// Any Encodable as one line of JSON.
    static func json(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        write((try? encoder.encode(value)) ?? Data("null".utf8))
        line("")
    }

    /// A value as printable text for a table cell: invalid UTF-8 and control bytes escaped.
    static func cell(_ bytes: [UInt8]?) -> String {
        guard let bytes else { return "" }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? $0.escaped(asASCII: true) : String($0) }.joined()
    }

    static func time(_ ns: Int) -> String { JournalEntry.rfc3339(nanoseconds: ns) }
}
