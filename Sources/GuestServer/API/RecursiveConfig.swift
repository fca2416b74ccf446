import Foundation
import GuestJSON
import GuestStore

/// `GET /1.0/config?recursive=true` (README, "Watching for changes"): one JSON object of every
/// key the guest may read and its value. A value that is UTF-8 is a JSON string; one that is
/// not is `{"base64":"…"}`; a large one is named, not carried: `{"size":N,"etag":"…"}`, read
/// whole (and in pieces) from `/1.0/config/{key}`. The answer stays small, whatever the host
/// stored: values of at most `wholeUpTo` bytes are carried while the ones before them (in key
/// order) come to at most `budget` bytes.
enum RecursiveConfig {
    static let wholeUpTo = GuestResponse.wholeValueLimit
    static let budget = 4 * GuestResponse.wholeValueLimit

    static func json(_ entries: [Store.ConfigEntry]) -> [UInt8] {
        var json = JSONWriter()
        json.raw("{")
        for (i, entry) in entries.enumerated() {
            if i > 0 { json.raw(",") }
            json.string(entry.key)
            json.raw(":")
            switch entry.value {
            case nil:
                json.raw("{\"size\":")
                json.int(entry.size)
                json.raw(",\"etag\":")
                json.string(entry.digest.entityTag)
                json.raw("}")
            case let value? where String(validating: value, as: UTF8.self) != nil:
                json.string(utf8: value)
            case let value?:
                json.raw("{\"base64\":")
                json.string(Data(value).base64EncodedString())
                json.raw("}")
            }
        }
        json.raw("}")
        return json.bytes
    }
}
