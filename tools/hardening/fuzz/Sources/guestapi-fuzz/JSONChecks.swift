import Foundation
import GuestJSON

/// `JSONText` (what `guestapi-admin apply` reads) against Foundation's `JSONSerialization` as
/// the reference. For every input: JSONText never traps (it refuses containers past 64 deep
/// rather than recursing into them); a `SyntaxError` names a line and column inside the input
/// (line ≥ 1, column ≥ 1, on that line, at most one past the end); and the two agree on what
/// is JSON, and on its value, but for these differences, each checked, not assumed:
///
/// Foundation reads, JSONText refuses:
/// - UTF-16 and UTF-32 (a byte order mark, or NULs among the first four bytes) and a UTF-8
///   byte order mark, skipped. RFC 8259 §8.1: JSON text exchanged is UTF-8, with no mark.
///   Such input is never JSONText (NUL, 0xFE, 0xFF and a leading mark are none of its bytes);
///   a UTF-8 mark is taken off and the rest compared.
/// - A trailing comma, `[1,]` and `{"a":1,}`: not in RFC 8259's grammar. JSONText must say so
///   at the bracket after the comma; the comma is taken out and the rest compared.
/// - A member name given twice (Foundation keeps the last). RFC 8259 §4 says names SHOULD be
///   unique; JSONText refuses, at the second name, which it must name as Foundation reads it.
///   That name is renamed and the rest compared; once JSONText reads the document, the
///   renamed member must follow one whose name has the same code points in the same object.
/// - Containers nested 65 to 512 deep (Foundation's limit is 512): Foundation's value must be
///   nested more than 64 deep and JSONText must refuse at a bracket.
///
/// JSONText reads, Foundation refuses:
/// - A number past Double's range (`1e400`): JSONText keeps any number as written (RFC 8259
///   §6 sets no range); Foundation cannot hold it. Such a number must be in JSONText's value.
///
/// Anything else (invalid UTF-8, lone surrogates, control bytes, leading zeros, NaN, comments,
/// other spaces) both refuse. Where both read a document, the values are the same: strings by
/// code points, integers exactly, other numbers as Double reads them (Foundation keeps more
/// than 17 digits as a Decimal, so within a relative 1e-9), and object members as Foundation
/// keys them: Swift strings, canonically equivalent names as one, the last one's value.
func checkJSON(_ input: [UInt8]) {
    let whole = read(input)
    if case .failure(let error) = whole { _ = offset(of: error, in: input) }
    var document = input
    if document.starts(with: [0xEF, 0xBB, 0xBF]) {
        precondition(!whole.isSuccess, "JSONText read \(show(input)) with a byte order mark")
        document.removeFirst(3)
    }
    // (After the mark: without it, what follows could look like UTF-32 to Foundation, which
    // reads it as UTF-8 after a UTF-8 mark.)
    if transcodedByFoundation(document) {
        precondition(!whole.isSuccess && !read(document).isSuccess, "JSONText read \(show(input)), which is no UTF-8 JSON")
        return
    }
    var renamed: [(name: [Unicode.Scalar], as: [Unicode.Scalar])] = []
    // Each round takes out a comma or renames a name, so this ends.
    while true {
        let mine = read(document)
        let reference = try? JSONSerialization.jsonObject(with: Data(document), options: [.fragmentsAllowed])
        switch (mine, reference) {
        case (.failure(let error), nil):
            _ = offset(of: error, in: document)
            return
        case (.success(let value), let reference?):
            compare(value, reference, at: "$", document)
            // (Unless the input spells names like those given: it could hold one already.)
            if input.firstRange(of: Array("renamed".utf8)) == nil {
                for (name, fresh) in renamed { checkRenamed(value, name: name, as: fresh, document) }
            }
            return
        case (.success(let value), nil):
            precondition(hasNumberPastDouble(value), "Foundation refuses \(show(document)), JSONText reads \(value)")
            return
        case (.failure(let error), let reference?):
            let at = offset(of: error, in: document)
            let byte = at < document.count ? document[at] : nil
            let before = document[..<at].lastIndex { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
            if error.problem == "nested more than 64 deep" {
                precondition(depth(reference) > 64, "JSONText: \(error) in \(show(document)), only \(depth(reference)) deep")
                precondition(byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{"), "\(error) not at a bracket in \(show(document))")
                return
            }
            if let before, document[before] == UInt8(ascii: ","),
                (byte == UInt8(ascii: "]") && error.problem == "unexpected character ']'")
                    || (byte == UInt8(ascii: "}") && error.problem == "expected a member name in quotes")
            {
                document.remove(at: before)
                continue
            }
            if error.problem.hasSuffix("\" given twice"), byte == UInt8(ascii: "\"") {
                let end = stringEnd(document, from: at)
                guard let name = try? JSONSerialization.jsonObject(with: Data(document[at..<end]), options: [.fragmentsAllowed]) as? String
                else {
                    preconditionFailure("\(error): Foundation reads no name at \(at) in \(show(document))")
                }
                precondition(
                    Array(error.problem.unicodeScalars) == Array("member \"\(name)\" given twice".unicodeScalars),
                    "\(error) for the name \(name.debugDescription) in \(show(document))")
                let fresh = "\u{1}renamed \(renamed.count)"
                renamed.append((Array(name.unicodeScalars), Array(fresh.unicodeScalars)))
                document.replaceSubrange(at..<end, with: Array("\"\\u0001renamed \(renamed.count - 1)\"".utf8))
                continue
            }
            preconditionFailure("Foundation reads \(show(document)), JSONText refuses: \(error)")
        }
    }
}

private func read(_ bytes: [UInt8]) -> Result<JSONText, JSONText.SyntaxError> {
    Result { () throws(JSONText.SyntaxError) in try JSONText(parsing: bytes) }
}

extension Result {
    fileprivate var isSuccess: Bool { if case .success = self { true } else { false } }
}

private func show(_ bytes: some Collection<UInt8>) -> String {
    String(decoding: bytes.prefix(200), as: UTF8.self).debugDescription + (bytes.count > 200 ? "…" : "")
}

/// The byte the error's line and column name: on that line (or one past its last byte), at
/// most one past the end. Its description says the same.
private func offset(of error: JSONText.SyntaxError, in bytes: [UInt8]) -> Int {
    precondition(error.line >= 1 && error.column >= 1, "\(error): no such place")
    precondition(
        error.description == "invalid JSON at line \(error.line), column \(error.column): \(error.problem)",
        "description \(error.description)")
    var lineStart = 0
    for _ in 1..<error.line {
        guard let newline = bytes[lineStart...].firstIndex(of: 0x0A) else {
            preconditionFailure("\(error): \(show(bytes)) has fewer lines")
        }
        lineStart = newline + 1
    }
    let lineEnd = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.count
    let offset = lineStart + error.column - 1
    precondition(offset <= lineEnd, "\(error): line \(error.line) of \(show(bytes)) ends at column \(lineEnd - lineStart + 1)")
    return offset
}

/// Whether Foundation takes the input for UTF-16 or UTF-32: by a byte order mark, or by the
/// NULs among the first four (two) bytes that ASCII in those encodings has.
private func transcodedByFoundation(_ b: [UInt8]) -> Bool {
    if b.starts(with: [0xFE, 0xFF]) || b.starts(with: [0xFF, 0xFE]) || b.starts(with: [0, 0, 0xFE, 0xFF]) { return true }
    if b.count >= 4 {
        return (b[0] == 0 && b[1] == 0 && b[2] == 0) || (b[1] == 0 && b[2] == 0 && b[3] == 0)
            || (b[0] == 0 && b[2] == 0) || (b[1] == 0 && b[3] == 0)
    }
    return b.count >= 2 && (b[0] == 0 || b[1] == 0)
}

/// One past the closing quote of the string that starts at `start` (JSONText read it whole).
private func stringEnd(_ bytes: [UInt8], from start: Int) -> Int {
    var index = start + 1
    while index < bytes.count {
        switch bytes[index] {
        case UInt8(ascii: "\\"): index += 2
        case UInt8(ascii: "\""): return index + 1
        default: index += 1
        }
    }
    preconditionFailure("no closing quote after \(start) in \(show(bytes))")
}

private func depth(_ value: Any) -> Int {
    if let array = value as? [Any] { return 1 + (array.map(depth).max() ?? 0) }
    if let object = value as? [String: Any] { return 1 + (object.values.map(depth).max() ?? 0) }
    return 0
}

private func hasNumberPastDouble(_ value: JSONText) -> Bool {
    switch value {
    case .number(let text): !(Double(text)?.isFinite ?? false)
    case .array(let elements): elements.contains(where: hasNumberPastDouble)
    case .object(let members): members.contains { hasNumberPastDouble($0.value) }
    default: false
    }
}

private func compare(_ value: JSONText, _ reference: Any, at path: String, _ document: [UInt8]) {
    func fail(_ what: String) -> Never {
        preconditionFailure("\(path) in \(show(document)): JSONText \(value), Foundation \(reference): \(what)")
    }
    let number = reference as? NSNumber
    let type = number.map { String(cString: $0.objCType) }
    switch value {
    case .null:
        if !(reference is NSNull) { fail("not null") }
    case .bool(let bool):
        if type != "c" || number?.boolValue != bool { fail("not that boolean") }
    case .integer(let integer):
        // Exactly; not always as an Int64: Foundation counts the sign among the digits, so a
        // negative integer of 19 digits (Int.min too) comes as a Decimal, which still says it exactly.
        if type == nil || type == "c" || number?.int64Value != Int64(integer) { fail("not that integer") }
    case .number(let text):
        guard let number, type != "c", let expected = Double(text) else { fail("not a number") }
        if abs(number.doubleValue - expected) > abs(expected) * 1e-9 { fail("not that number") }
    case .string(let string):
        guard let other = reference as? String, Array(other.unicodeScalars) == Array(string.unicodeScalars) else { fail("not that string") }
    case .array(let elements):
        guard let others = reference as? [Any], others.count == elements.count else { fail("not that array") }
        for (index, (element, other)) in zip(elements, others).enumerated() { compare(element, other, at: "\(path)[\(index)]", document) }
    case .object(let members):
        guard let others = reference as? [String: Any], others.count == Set(members.map(\.key)).count else { fail("not that object") }
        for (index, member) in members.enumerated() where !members[(index + 1)...].contains(where: { $0.key == member.key }) {
            guard let other = others[member.key] else { fail("no member \(member.key.debugDescription)") }
            compare(member.value, other, at: "\(path).\(member.key.debugDescription)", document)
        }
    }
}

/// The member renamed `fresh` (once in the value, or the input had that name: nothing to
/// check) follows, in its object, one named `name`.
private func checkRenamed(_ value: JSONText, name: [Unicode.Scalar], as fresh: [Unicode.Scalar], _ document: [UInt8]) {
    var found: [[(key: String, value: JSONText)]] = []
    func search(_ value: JSONText) {
        switch value {
        case .array(let elements): elements.forEach(search)
        case .object(let members):
            if members.contains(where: { Array($0.key.unicodeScalars) == fresh }) { found.append(members) }
            members.forEach { search($0.value) }
        default: break
        }
    }
    search(value)
    guard found.count == 1, let members = found.first, let at = members.firstIndex(where: { Array($0.key.unicodeScalars) == fresh }) else {
        return
    }
    precondition(
        members[..<at].contains { Array($0.key.unicodeScalars) == name },
        "JSONText said \(String(String.UnicodeScalarView(name)).debugDescription) was given twice in \(show(document)), yet it was not")
}
