import GuestJSON
import Testing

/// `JSONText`: what `apply` reads, strictly (RFC 8259), with errors by line and byte column.
@Suite("JSON text")
struct JSONTextTests {
    /// A document and the value it reads as.
    struct Valid: Sendable, CustomTestStringConvertible {
        var text: String
        var value: JSONText
        init(_ text: String, _ value: JSONText) { (self.text, self.value) = (text, value) }
        var testDescription: String { text.debugDescription }
    }

    @Test(arguments: [
        Valid("null", .null), Valid("true", .bool(true)), Valid("false", .bool(false)),
        Valid("0", .integer(0)), Valid("-0", .integer(0)), Valid("42", .integer(42)), Valid("-17", .integer(-17)),
        Valid("9223372036854775807", .integer(.max)), Valid("-9223372036854775808", .integer(.min)),
        // Past Int, or with a fraction or an exponent: kept as written.
        Valid("9223372036854775808", .number("9223372036854775808")), Valid("-9223372036854775809", .number("-9223372036854775809")),
        Valid("1e3", .number("1e3")), Valid("-0.5", .number("-0.5")), Valid("1E+2", .number("1E+2")),
        Valid("0.0e-0", .number("0.0e-0")), Valid("1e400", .number("1e400")), Valid("10.50", .number("10.50")),
        Valid(#""""#, .string("")), Valid(#""abc""#, .string("abc")),
        Valid(#""\"\\\/\b\f\n\r\t""#, .string("\"\\/\u{8}\u{C}\n\r\t")),
        Valid(#""a\u0000b""#, .string("a\u{0}b")), Valid(#""\u00e9\u00E9\u001F""#, .string("éé\u{1F}")),
        Valid(#""\uD83D\uDE00 \ud83d\ude00""#, .string("😀 😀")), Valid(#""\uFFFF""#, .string("\u{FFFF}")),
        Valid("\"é😀\u{7F}\"", .string("é😀\u{7F}")),
        Valid("[]", .array([])), Valid("{}", .object([])),
        Valid(
            #"[1,"a",null,[true,[]],{"k":false}]"#,
            .array([.integer(1), .string("a"), .null, .array([.bool(true), .array([])]), .object([("k", .bool(false))])])),
        Valid(#"{"b":{"c":[{}]},"a":-1.5}"#, .object([("b", .object([("c", .array([.object([])]))])), ("a", .number("-1.5"))])),
        Valid(" \t\r\n[ 1 ,\n\t2 ]\r\n ", .array([.integer(1), .integer(2)])),
        Valid(#"{ "a" : 1 , "\u0062" : "x" }"#, .object([("a", .integer(1)), ("b", .string("x"))])),
    ])
    func valid(_ document: Valid) throws {
        #expect(try JSONText(parsing: Array(document.text.utf8)) == document.value)
    }

    @Test func membersKeepTheirOrder() throws {
        guard case .object(let members) = try JSONText(parsing: Array(#"{"z":1,"a":2,"m":3}"#.utf8)) else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["z", "a", "m"])
    }

    /// Member names are compared by their code points, as RFC 8259 says: names that Swift's
    /// `==` finds canonically equivalent are still two names.
    @Test(arguments: [("\u{E9}", "e\u{301}"), ("K", "\u{212A}"), ("Å", "\u{212B}")])
    func equivalentNamesAreDistinct(first: String, second: String) throws {
        let value = try JSONText(parsing: Array("{\"\(first)\":1,\"\(second)\":2}".utf8))
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map { Array($0.key.unicodeScalars) } == [Array(first.unicodeScalars), Array(second.unicodeScalars)])
        #expect(members.map(\.value) == [.integer(1), .integer(2)])
    }

    /// 64 containers, one in another, are read whatever the innermost holds (a 65th is refused: below).
    @Test(arguments: ["", "1", #""s""#, "null"])
    func sixtyFourDeep(innermost: String) throws {
        let arrays = String(repeating: "[", count: 64) + innermost + String(repeating: "]", count: 64)
        var value = try JSONText(parsing: Array(arrays.utf8))
        for _ in 0..<63 {
            guard case .array(let elements) = value, elements.count == 1 else { break }
            value = elements[0]
        }
        #expect(value == (try JSONText(parsing: Array("[\(innermost)]".utf8))))

        let objects =
            String(repeating: #"{"a":"#, count: 63) + "{\(innermost.isEmpty ? "" : #""a":\#(innermost)"#)}"
            + String(repeating: "}", count: 63)
        _ = try JSONText(parsing: Array(objects.utf8))
    }

    /// An invalid document, where its error is (1-based line, column in bytes) and what it says.
    struct Invalid: Sendable, CustomTestStringConvertible {
        var bytes: [UInt8]
        var line: Int
        var column: Int
        var problem: String
        init(_ text: String, _ line: Int, _ column: Int, _ problem: String) {
            self.init(bytes: Array(text.utf8), line, column, problem)
        }
        init(bytes: [UInt8], _ line: Int, _ column: Int, _ problem: String) {
            (self.bytes, self.line, self.column, self.problem) = (bytes, line, column, problem)
        }
        var testDescription: String { String(decoding: bytes, as: UTF8.self).debugDescription }
    }

    static let nested65 = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
    static let nested65Objects = String(repeating: #"{"a":"#, count: 64) + "{}" + String(repeating: "}", count: 64)

    @Test(arguments: [
        Invalid("", 1, 1, "unexpected end of the document"),
        Invalid(" \n\t", 2, 2, "unexpected end of the document"),
        Invalid("[1,]", 1, 4, "unexpected character ']'"),
        Invalid(#"{"a":1,}"#, 1, 8, "expected a member name in quotes"),
        Invalid(#"{"a" 1}"#, 1, 6, "expected ':' after the member name"),
        Invalid(#"{"a":1 "b":2}"#, 1, 8, "expected ',' or '}'"),
        Invalid("[1 2]", 1, 4, "expected ',' or ']'"),
        Invalid("{1:2}", 1, 2, "expected a member name in quotes"),
        Invalid(#""abc"#, 1, 5, "unexpected end of the document: a string is not closed"),
        Invalid(#""abc\"#, 1, 6, "unexpected end of the document: a string is not closed"),
        Invalid("[1, 2", 1, 6, "unexpected end of the document: an array is not closed"),
        Invalid("[", 1, 2, "unexpected end of the document"),
        Invalid(#"{"a": 1"#, 1, 8, "unexpected end of the document: an object is not closed"),
        Invalid(#"{"a":"#, 1, 6, "unexpected end of the document"),
        Invalid("\"a\tb\"", 1, 3, "a control character in a string (escape it)"),
        Invalid(bytes: [0x22, 0x00, 0x22], 1, 2, "a control character in a string (escape it)"),
        // The newline that ends line 2 is inside a string: line 2, one past its last character.
        Invalid("{\n  \"a\": \"x\ny\"\n}", 2, 10, "a control character in a string (escape it)"),
        Invalid(#""\x""#, 1, 3, #"unknown escape \'x'"#),
        Invalid(#""\U00e9""#, 1, 3, #"unknown escape \'U'"#),
        Invalid(#""\u12G4""#, 1, 6, #"expected four hex digits after \u"#),
        Invalid(#""\u12"#, 1, 6, #"expected four hex digits after \u"#),
        // Surrogates: the error is where the low one was expected, or right after the lone low one.
        Invalid(#""\uD800""#, 1, 8, "a high surrogate without its low one"),
        Invalid(#""\uDBFFx""#, 1, 8, "a high surrogate without its low one"),
        Invalid(#""\uD800\u0041""#, 1, 14, "a high surrogate without its low one"),
        Invalid(#""\uD800\uD800\uDC00""#, 1, 14, "a high surrogate without its low one"),
        Invalid(#""\uDC00""#, 1, 8, "a lone low surrogate"),
        Invalid(#""\uDFFF\uD800""#, 1, 8, "a lone low surrogate"),
        Invalid("01", 1, 1, "a number cannot start with 0"),
        Invalid("-01", 1, 2, "a number cannot start with 0"),
        Invalid("[00]", 1, 2, "a number cannot start with 0"),
        Invalid("-", 1, 2, "expected a digit"),
        Invalid("-a", 1, 2, "expected a digit"),
        Invalid("1.", 1, 3, "expected a digit after '.'"),
        Invalid("1.e5", 1, 3, "expected a digit after '.'"),
        Invalid("1e", 1, 3, "expected a digit in the exponent"),
        Invalid("[1e+]", 1, 5, "expected a digit in the exponent"),
        Invalid(".5", 1, 1, "unexpected character '.'"),
        Invalid("+1", 1, 1, "unexpected character '+'"),
        Invalid("NaN", 1, 1, "unexpected character 'N'"),
        Invalid("tru", 1, 1, "expected true"),
        Invalid("[nul]", 1, 2, "expected null"),
        Invalid("True", 1, 1, "unexpected character 'T'"),
        Invalid("'a'", 1, 1, "unexpected character '''"),
        Invalid("{} x", 1, 4, "unexpected text after the document"),
        Invalid("1 2", 1, 3, "unexpected text after the document"),
        Invalid("truex", 1, 5, "unexpected text after the document"),
        Invalid("[1]//", 1, 4, "unexpected text after the document"),
        Invalid(bytes: [0x31, 0x00], 1, 2, "unexpected text after the document"),
        Invalid("[\r\n1,\r\n]", 3, 1, "unexpected character ']'"),
        // The second name, by its opening quote; an escape spells the same name.
        Invalid("{\"a\":1,\n \"a\":2}", 2, 2, #"member "a" given twice"#),
        Invalid(#"{"a":1,"\u0061":2}"#, 1, 8, #"member "a" given twice"#),
        Invalid(#"[{"a":1},{"b":{"c":1,"c":2}}]"#, 1, 22, #"member "c" given twice"#),
        Invalid(nested65, 1, 65, "nested more than 64 deep"),
        Invalid(nested65Objects, 1, 321, "nested more than 64 deep"),
        // Invalid UTF-8 is pointed at, byte by byte.
        Invalid(bytes: Array(#""ab"#.utf8) + [0xFF] + Array(#"cdef""#.utf8), 1, 4, "a string that is not UTF-8"),
        Invalid(bytes: Array(#""é\n"#.utf8) + [0xC3, 0x28] + Array(#"""#.utf8), 1, 6, "a string that is not UTF-8"),
        Invalid(bytes: [0x22, 0xC0, 0x80, 0x22], 1, 2, "a string that is not UTF-8"),  // overlong NUL
        Invalid(bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], 1, 2, "a string that is not UTF-8"),  // an encoded surrogate
        Invalid(bytes: [0x22, 0x61, 0xF4, 0x90, 0x80, 0x80, 0x22], 1, 3, "a string that is not UTF-8"),  // past U+10FFFF
        Invalid(bytes: [0x22, 0x61, 0xE2, 0x82, 0x22], 1, 3, "a string that is not UTF-8"),  // cut short by the quote
        Invalid(bytes: [0x22, 0xE2, 0x82, 0x5C, 0x6E, 0x22], 1, 2, "a string that is not UTF-8"),  // cut short by an escape
        Invalid(bytes: [0x22, 0xE2, 0x82], 1, 4, "unexpected end of the document: a string is not closed"),
        Invalid(
            bytes: [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x31, 0x2C, 0x0A, 0x22, 0x62, 0xE9, 0x22, 0x3A, 0x32, 0x7D], 2, 3,
            "a string that is not UTF-8"),  // Latin-1 in a name
        Invalid(bytes: [0xEF, 0xBB, 0xBF, 0x31], 1, 1, "unexpected character 0xef"),  // no byte order mark
        Invalid(bytes: [0xFF], 1, 1, "unexpected character 0xff"),
        Invalid(bytes: [0x0C, 0x31], 1, 1, "unexpected character 0xc"),  // form feed is no JSON space
    ])
    func invalid(_ document: Invalid) {
        let error = #expect(throws: JSONText.SyntaxError.self) { try JSONText(parsing: document.bytes) }
        #expect(error?.line == document.line)
        #expect(error?.column == document.column)
        #expect(error?.problem == document.problem)
        #expect(error?.description == "invalid JSON at line \(document.line), column \(document.column): \(document.problem)")
    }

    @Test func kinds() throws {
        let kinds = try ["null", "true", "1", "1.5", #""s""#, "[]", "{}"].map { try JSONText(parsing: Array($0.utf8)).kind }
        #expect(kinds == ["null", "a boolean", "a number", "a number", "a string", "an array", "an object"])
    }
}

/// `DesiredState(json:)`: the input of `apply`, its errors naming the JSON path.
