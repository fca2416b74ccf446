import Foundation
import GuestJSON
import GuestStore
import HostProcess
import Logging
import NIOConcurrencyHelpers
import StandardStreams

/// Every line the daemon writes, in one format: logfmt (`time=… level=… msg=… key=value`) for
/// people and grep, or one JSON object a line for collectors, in which a number or a flag
/// given as such (`.stringConvertible(pid)`) is a JSON number or boolean, not a string. A line
/// is one write(2) to stderr.
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
        var fields: [(String, Logger.MetadataValue)] = [
            ("time", .string(JournalEntry.rfc3339(nanoseconds: Int(Date().timeIntervalSince1970 * 1e9)))),
            ("level", .string(event.level.rawValue)), ("msg", .string(event.message.description)),
        ]
        let all = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        fields += all.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let text = format == .json ? Self.json(fields) : Self.logfmt(fields)
        Self.output.withLock { StandardStream.error(text) }
    }

    static func logfmt(_ fields: [(String, Logger.MetadataValue)]) -> String {
        fields.map { key, value in
            let value = value.description
            let plain =
                !value.isEmpty
                && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0 != "\\" && $0.value != 0x7F }
            return key + "=" + (plain ? value : quoted(value))
        }.joined(separator: " ")
    }

    static func json(_ fields: [(String, Logger.MetadataValue)]) -> String {
        var writer = JSONWriter()
        writer.raw("{")
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.string(key)
            writer.raw(":")
            write(value, into: &writer)
        }
        writer.raw("}")
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// A whole number or a flag as JSON's own; anything else as a string (lists and maps as
    /// arrays and objects).
    private static func write(_ value: Logger.MetadataValue, into writer: inout JSONWriter) {
        switch value {
        case .stringConvertible(let number as any BinaryInteger): writer.raw(String(describing: number).utf8)
        case .stringConvertible(let flag as Bool): writer.raw((flag ? "true" : "false").utf8)
        case .string(let text): writer.string(text)
        case .stringConvertible(let other): writer.string(other.description)
        case .array(let items):
            writer.raw("[")
            for (index, item) in items.enumerated() {
                if index > 0 { writer.raw(",") }
                write(item, into: &writer)
            }
            writer.raw("]")
        case .dictionary(let members):
            writer.raw("{")
            for (index, (key, item)) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { writer.raw(",") }
                writer.string(key)
                writer.raw(":")
                write(item, into: &writer)
            }
            writer.raw("}")
        }
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
