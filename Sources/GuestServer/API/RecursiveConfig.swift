import Foundation
import GuestJSON
import GuestStore

/// `GET /1.0/config?recursive=true` (README, "Watching for changes"): one JSON object of every
/// key the guest may read and its value. A value that is UTF-8 is a JSON string; one that is
/// not is `{"base64":"…"}`. The values it carries stay small whatever the host stored, so a
/// connection that never reads holds little: they are carried, in key order, while what they
/// are written as comes to at most `budget` bytes (each at most `wholeUpTo` bytes, and at most
/// `budget` bytes of them read); any other is named, not carried: `{"size":N,"etag":"…"}`, to
/// read (in pieces) from `/1.0/config/{key}`. (Its length still grows with the number of keys.)
enum RecursiveConfig {
    static let wholeUpTo = GuestResponse.wholeValueLimit
    static let budget = GuestResponse.wholeValueLimit

    static func json(_ entries: [Store.ConfigEntry]) -> [UInt8] {
        var json = JSONWriter()
        var carried = 0
        json.raw("{")
        for (i, entry) in entries.enumerated() {
            if i > 0 { json.raw(",") }
            json.string(entry.key)
            json.raw(":")
            if let value = entry.value.map(Self.written), carried + value.count <= budget {
                json.raw(value)
                carried += value.count
            } else {
                json.raw("{\"size\":")
                json.int(entry.size)
                json.raw(",\"etag\":")
                json.string(entry.digest.entityTag)
                json.raw("}")
            }
        }
        json.raw("}")
        return json.bytes
    }

    /// A value as the listing carries it.
    private static func written(_ value: [UInt8]) -> [UInt8] {
        var json = JSONWriter()
        if String(validating: value, as: UTF8.self) != nil {
            json.string(utf8: value)
        } else {
            json.raw("{\"base64\":")
            json.string(Data(value).base64EncodedString())
            json.raw("}")
        }
        return json.bytes
    }
}
