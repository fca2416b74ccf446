import ASCIINumbers

extension JSONText {
    /// The reader behind `init(parsing:)`: one pass, with the position errors name.
    struct Parser {
        let bytes: [UInt8]
        var index = 0

        func error(_ problem: String) -> SyntaxError {
            var line = 1
            var lineStart = 0
            for (offset, byte) in bytes[..<min(index, bytes.count)].enumerated() where byte == UInt8(ascii: "\n") {
                line += 1
                lineStart = offset + 1
            }
            return SyntaxError(line: line, column: index - lineStart + 1, problem: problem)
        }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        /// `depth`: how many arrays and objects the value is in.
        mutating func value(depth: Int) throws(SyntaxError) -> JSONText {
            guard index < bytes.count else { throw error("unexpected end of the document") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character \(Self.show(bytes[index]))")
            }
        }

        mutating func literal(_ word: StaticString) throws(SyntaxError) {
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            guard bytes.count - index >= expected.count, bytes[index..<(index + expected.count)].elementsEqual(expected) else {
                throw error("expected \(word)")
            }
            index += expected.count
        }

        /// Refuses a container that would be the 65th, at its bracket.
        func checkDepth(_ depth: Int) throws(SyntaxError) {
            guard depth < JSONText.maxDepth else { throw error("nested more than \(JSONText.maxDepth) deep") }
        }

        mutating func object(depth: Int) throws(SyntaxError) -> JSONText {
            try checkDepth(depth)
            index += 1
            var members: [(key: String, value: JSONText)] = []
            // Names compared by their bytes, so by code points as RFC 8259 does: String's == is canonical
            // equivalence, which would take "\u{E9}" and "e\u{301}" (or "K" and the Kelvin sign) for one name.
            var keys = Set<[UInt8]>()
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name in quotes") }
                let keyStart = index
                let key = try string()
                guard keys.insert(Array(key.utf8)).inserted else {
                    index = keyStart
                    throw error("member \"\(key)\" given twice")
                }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after the member name") }
                index += 1
                skipSpace()
                members.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard index < bytes.count else { throw error("unexpected end of the document: an object is not closed") }
                if bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                }
                guard bytes[index] == UInt8(ascii: ",") else { throw error("expected ',' or '}'") }
                index += 1
            }
        }

        mutating func array(depth: Int) throws(SyntaxError) -> JSONText {
            try checkDepth(depth)
            index += 1
            var elements: [JSONText] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                skipSpace()
                elements.append(try value(depth: depth + 1))
                skipSpace()
                guard index < bytes.count else { throw error("unexpected end of the document: an array is not closed") }
                if bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(elements)
                }
                guard bytes[index] == UInt8(ascii: ",") else { throw error("expected ',' or ']'") }
                index += 1
            }
        }

        mutating func number() throws(SyntaxError) -> JSONText {
            let start = index
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digits: (inout Parser) -> Int = { parser in
                let from = parser.index
                while parser.index < parser.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.index]) {
                    parser.index += 1
                }
                return parser.index - from
            }
            let integerStart = index
            guard digits(&self) > 0 else { throw error("expected a digit") }
            if bytes[integerStart] == UInt8(ascii: "0") && index - integerStart > 1 {
                index = integerStart
                throw error("a number cannot start with 0")
            }
            var isInteger = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                isInteger = false
                guard digits(&self) > 0 else { throw error("expected a digit after '.'") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                isInteger = false
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits(&self) > 0 else { throw error("expected a digit in the exponent") }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if isInteger, let value = Int(text) { return .integer(value) }
            return .number(text)
        }

        mutating func string() throws(SyntaxError) -> String {
            index += 1
            var scalars = String.UnicodeScalarView()
            var run = index
            func flush(_ parser: Parser) throws(SyntaxError) {
                let slice = parser.bytes[run..<parser.index]
                guard let text = String(validating: slice, as: UTF8.self) else {
                    var at = parser  // the error at the first byte that is not UTF-8
                    at.index = run + Self.utf8Prefix(slice)
                    throw at.error("a string that is not UTF-8")
                }
                scalars.append(contentsOf: text.unicodeScalars)
            }
            while true {
                guard index < bytes.count else { throw error("unexpected end of the document: a string is not closed") }
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    try flush(self)
                    index += 1
                    return String(scalars)
                }
                guard byte >= 0x20 else { throw error("a control character in a string (escape it)") }
                guard byte == UInt8(ascii: "\\") else {
                    index += 1
                    continue
                }
                try flush(self)
                index += 1
                guard index < bytes.count else { throw error("unexpected end of the document: a string is not closed") }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{8}")
                case UInt8(ascii: "f"): scalars.append("\u{c}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"): scalars.append(try unicodeEscape())
                default:
                    index -= 1
                    throw error("unknown escape \\\(Self.show(escaped))")
                }
                run = index
            }
        }

        /// After `\u`: four hex digits, a surrogate pair as two escapes.
        mutating func unicodeEscape() throws(SyntaxError) -> Unicode.Scalar {
            let high = try hex4()
            guard (0xD800...0xDBFF).contains(high) else {
                guard let scalar = Unicode.Scalar(high) else { throw error("a lone low surrogate") }
                return scalar
            }
            guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw error("a high surrogate without its low one")
            }
            index += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low), let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) else {
                throw error("a high surrogate without its low one")
            }
            return scalar
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard index < bytes.count, let digit = bytes[index].hexDigitValue else { throw error("expected four hex digits after \\u") }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            return value
        }

        /// How many bytes at the start of `bytes` are whole UTF-8 scalars.
        static func utf8Prefix(_ bytes: ArraySlice<UInt8>) -> Int {
            var iterator = bytes.makeIterator()
            var utf8 = Unicode.UTF8.ForwardParser()
            var count = 0
            while case .valid(let scalar) = utf8.parseScalar(from: &iterator) { count += scalar.count }
            return count
        }

        static func show(_ byte: UInt8) -> String {
            byte >= 0x21 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16)
        }
    }
}
