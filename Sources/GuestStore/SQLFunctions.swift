import CSQLite
import Foundation

/// The SQL functions the schema's triggers call; registered on every guestapi connection.
enum SQLFunctions {
    static func register(on db: OpaquePointer) {
        sqlite3_create_function_v2(
            db, "guestapi_now_ns", 0, SQLITE_UTF8, nil,
            { ctx, _, _ in
                var ts = timespec()
                clock_gettime(CLOCK_REALTIME, &ts)
                sqlite3_result_int64(ctx, Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
            }, nil, nil, nil)
        sqlite3_create_function_v2(
            db, "guestapi_uuid", 0, SQLITE_UTF8, nil,
            { ctx, _, _ in
                sqlite3_result_text(ctx, UUID().uuidString.lowercased(), -1, csqlite_transient())
            }, nil, nil, nil)
        sqlite3_create_function_v2(
            db, "guestapi_mac", 0, SQLITE_UTF8, nil,
            { ctx, _, _ in
                sqlite3_result_text(ctx, SQLFunctions.randomMAC(), -1, csqlite_transient())
            }, nil, nil, nil)
        sqlite3_create_function_v2(
            db, "guestapi_digest", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nil,
            { ctx, _, arguments in
                let value = arguments![0]
                let digest = ContentDigest(UnsafeRawBufferPointer(start: sqlite3_value_blob(value), count: Int(sqlite3_value_bytes(value))))
                digest.bytes.withUnsafeBytes { sqlite3_result_blob(ctx, $0.baseAddress, Int32($0.count), csqlite_transient()) }
            }, nil, nil, nil)
    }

    /// A MAC in Incus's default 10:66:6a prefix.
    static func randomMAC() -> String {
        let tail = (0..<3).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }
        return (["10", "66", "6a"] + tail).joined(separator: ":")
    }
}
