/// A JSON document read strictly (RFC 8259), for files people write by hand: an error says
/// where, by line and column, and a key given twice in one object is an error rather than a
/// silent choice. Hand-written because Foundation's parsers on Linux say neither.
public enum JSONText: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number without fraction or exponent that fits an Int.
    case integer(Int)
    /// Any other number, as written.
    case number(String)
    case string(String)
    case array([JSONText])
    /// Members in the order written.
    case object([(key: String, value: JSONText)])

    public static func == (lhs: JSONText, rhs: JSONText) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.map(\.key) == b.map(\.key) && a.map(\.value) == b.map(\.value)
        default: false
        }
    }

    /// A syntax error and where it is (1-based line and column, in bytes).
    public struct SyntaxError: Error, CustomStringConvertible, Equatable {
        public var line: Int
        public var column: Int
        public var problem: String
        public var description: String { "invalid JSON at line \(line), column \(column): \(problem)" }
    }

    /// Containers nested deeper than this are refused, not recursed into.
    static let maxDepth = 64

    public init(parsing bytes: [UInt8]) throws(SyntaxError) {
        var parser = Parser(bytes: bytes)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the document") }
        self = value
    }

    /// What the value is, for messages: "a string", "an object"…
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
