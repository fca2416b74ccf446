/// A value bound to a statement parameter.
public enum SQLValue: Sendable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    public static func int(_ v: Int) -> SQLValue { .integer(Int64(v)) }
    public static func optional(_ v: Int?) -> SQLValue { v.map { .integer(Int64($0)) } ?? .null }
    public static func optional(_ v: String?) -> SQLValue { v.map { .text($0) } ?? .null }
}
