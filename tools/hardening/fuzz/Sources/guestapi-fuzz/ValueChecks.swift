import GuestHTTP
import GuestRoutes

/// Checks for the parsers of single values: the `Range` header (`ByteRange`), the events
/// query's `since` and `type` (`EventQuery`, `ParameterError`) and the CLI's `--older-than`
/// (`Age`). The references for the numbers go through `UInt64(_:)` and a division, not the
/// digit-by-digit overflow checks of the code they judge, so that one mistake is not made twice.

/// Sizes at the edges (0 allows no part at all, Int.max puts `size - 1` arithmetic at its
/// limit) and one the input picks.
func checkRange(_ header: String, sizeHint: UInt8) {
    // `.whole` is only for a list of ranges, and a list never gives one part.
    let list = header.utf8.contains(UInt8(ascii: ","))
    for size in [0, 1, Int(sizeHint) * 37, Int.max] {
        switch ByteRange(header, size: size) {
        case .part(let start, let end):
            precondition(0 <= start && start <= end && end < size, "range \(start)-\(end) outside 0..<\(size)")
            precondition(!list, "\(header.debugDescription) is a list, yet one part")
        case .whole:
            precondition(list, "\(header.debugDescription) is no list, yet whole")
        case .unsatisfiable:
            break
        }
    }
}

/// `since` takes nil, `now`, or ASCII digits whose value fits an Int; everything else throws
/// the error naming that value. Its message is checked for any value, thrown or not.
func checkSince(_ text: String?) {
    // .none: it must throw; .some(nil): it must return nil.
    let expected: EventQuery.Since??
    if let text {
        if Array(text.utf8) == Array("now".utf8) {
            expected = .now
        } else if let value = decimal(text.utf8), value <= UInt64(Int.max) {
            expected = .id(Int(value))
        } else {
            expected = .none
        }
    } else {
        expected = .some(nil)
    }
    do {
        let since = try EventQuery.since(text)
        precondition(
            expected == .some(since), "since(\(text.debugDescription)) = \(since.debugDescription), not \(expected.debugDescription)")
    } catch {
        precondition(expected == nil, "since(\(text.debugDescription)) threw, not \(expected.debugDescription)")
        precondition(error == ParameterError(name: "since", value: text!), "since(\(text.debugDescription)) threw \(error)")
    }
    if let text { checkMessage(ParameterError(name: "since", value: text)) }
}

/// The message goes back to the guest: printable ASCII only (the "…" of a cut value aside),
/// short whatever the value, and a plain value shows as sent.
private func checkMessage(_ error: ParameterError) {
    let message = error.message
    precondition(
        message.unicodeScalars.allSatisfy { (0x20..<0x7F).contains($0.value) || $0 == "…" },
        "message \(message.debugDescription) has a byte that is no printable ASCII")
    precondition(message.utf8.count <= 300, "message of \(message.utf8.count) bytes")
    let value = Array(error.value.utf8)
    // (firstRange finds no empty collection, so an empty value is left out.)
    if !value.isEmpty, value.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
        precondition(Array(message.utf8).firstRange(of: value.prefix(64)) != nil, "message \(message.debugDescription) hides a plain value")
    }
}

/// An empty or missing `type` means config and device; otherwise only the names listed.
func checkKinds(_ text: String?) {
    let kinds = EventQuery.kinds(text)
    guard let text, !text.isEmpty else {
        precondition(kinds == [.config, .device], "no type gave \(kinds)")
        return
    }
    let names = text.split(separator: ",").map(String.init)
    precondition(kinds.allSatisfy { names.contains($0.rawValue) }, "type \(text.debugDescription) gave \(kinds)")
}

/// `--older-than`: ASCII digits then one of s, m, h, d, and a value whose nanoseconds fit an
/// Int; nil for everything else, never wrapped.
func checkAge(_ text: String) {
    let units: [UInt8: UInt64] = [UInt8(ascii: "s"): 1, UInt8(ascii: "m"): 60, UInt8(ascii: "h"): 3600, UInt8(ascii: "d"): 86400]
    let expected: Int? = text.utf8.last.flatMap { units[$0] }.flatMap { unit in
        let perUnit = unit * 1_000_000_000
        return decimal(text.utf8.dropLast()).flatMap { $0 <= UInt64(Int.max) / perUnit ? Int($0 * perUnit) : nil }
    }
    let age = Age.nanoseconds(text)
    precondition(age == expected, "nanoseconds(\(text.debugDescription)) = \(age.debugDescription), not \(expected.debugDescription)")
    precondition((age ?? 0) >= 0, "negative age")
}

/// One or more ASCII digits (no sign, no space) as a UInt64; nil otherwise or past UInt64.max,
/// which is past Int.max too.
private func decimal(_ bytes: some Collection<UInt8>) -> UInt64? {
    guard !bytes.isEmpty, bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
    return UInt64(String(decoding: bytes, as: UTF8.self))
}
