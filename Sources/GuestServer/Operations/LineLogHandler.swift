import Foundation
import GuestJSON
import GuestStore
import HostProcess
import Logging
import NIOConcurrencyHelpers
import StandardStreams

/// Every line the daemon writes, in one format: logfmt (`time=… level=… msg=… key=value`) for
/// people and grep, or one JSON object a line for collectors. A line is one write(2) to stderr.
public struct LineLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable {
        case logfmt, json
    }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let format: Format

    /// Lines from several threads do not interleave.
    private static let output = NIOLock()

    public init(format: Format, level: Logger.Level) {
        self.format = format
        logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("time", JournalEntry.rfc3339(nanoseconds: Int(Date().timeIntervalSince1970 * 1e9))), ("level", event.level.rawValue),
            ("msg", event.message.description),
        ]
        let all = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        fields += all.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") }
        let text = format == .json ? Self.json(fields) : Self.logfmt(fields)
        Self.output.withLock { StandardStream.error(text) }
    }

    static func logfmt(_ fields: [(String, String)]) -> String {
        fields.map { key, value in
            let plain =
                !value.isEmpty
                && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0 != "\\" && $0.value != 0x7F }
            return key + "=" + (plain ? value : quoted(value))
        }.joined(separator: " ")
    }

    static func json(_ fields: [(String, String)]) -> String {
        var writer = JSONWriter()
        writer.raw("{")
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.string(key)
            writer.raw(":")
            writer.string(value)
        }
        writer.raw("}")
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// In double quotes, with `"`, `\` and control characters escaped.
    private static func quoted(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: result += String(format: "\\x%02x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
