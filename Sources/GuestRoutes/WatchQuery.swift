import GuestHTTP

/// What a request asks beside its path on the watchable endpoints (README, "Watching for
/// changes"): `wait_for_change=true` holds the request until the answer's `ETag` is no longer
/// `last_etag` (or, without one, until the next change), for at most `timeout_sec` seconds;
/// `recursive=true` on `/1.0/config` lists values, not paths. Other parameters are ignored,
/// as Incus ignores them.
public struct WatchQuery: Equatable, Sendable {
    /// Holding, and for what.
    public struct Wait: Equatable, Sendable {
        /// The entity tag the caller has, quoted; nil to wait for the next change whatever it
        /// has. A key that is not set has the empty tag (`last_etag=`): its caller waits for it.
        public var lastTag: String?
        /// Seconds, 1 to `maxTimeout`.
        public var timeout: Int

        public init(lastTag: String?, timeout: Int) {
            self.lastTag = lastTag
            self.timeout = timeout
        }
    }

    public var wait: Wait?
    public var recursive = false

    public static let defaultTimeout = 60
    public static let maxTimeout = 3600

    /// The parameters from the request target (still percent-encoded); `recursive` only for a
    /// listing (`/1.0/config`), where it means something (elsewhere it is ignored, as an
    /// unknown parameter is). Throws for a value these parameters cannot have, with a one-line
    /// message.
    public init(target: String, listing: Bool = false) throws(ParameterError) {
        guard target.utf8.contains(UInt8(ascii: "?")) else { return }
        if listing { recursive = try Self.flag("recursive", in: target) ?? false }
        guard try Self.flag("wait_for_change", in: target) == true else { return }
        var timeout = Self.defaultTimeout
        if let text = try QueryParameter.value("timeout_sec", in: target, limit: 16) {
            guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), text.first != "0",
                let seconds = Int(text), (1...Self.maxTimeout).contains(seconds)
            else {
                throw ParameterError(name: "timeout_sec", value: text)
            }
            timeout = seconds
        }
        wait = Wait(lastTag: try QueryParameter.value("last_etag", in: target, limit: 128, minimum: 0).map(Self.quoted), timeout: timeout)
    }

    /// `true`/`1` or `false`/`0`, as Go's `strconv.ParseBool` reads the common spellings; an
    /// empty value is false.
    private static func flag(_ name: String, in target: String) throws(ParameterError) -> Bool? {
        guard let text = try QueryParameter.value(name, in: target, limit: 128, minimum: 0) else { return nil }
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0", "": return false
        default: throw ParameterError(name: name, value: text)
        }
    }

    /// An entity tag as sent in a header, whether or not the caller kept its quotes (a shell
    /// script passing `ETag` on, or a GCE client, drops them) and compared weakly, as
    /// `If-None-Match` is (`W/` dropped); the empty tag stays empty.
    private static func quoted(_ tag: String) -> String {
        let tag = tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
        if tag.isEmpty || (tag.utf8.count >= 2 && tag.utf8.first == UInt8(ascii: "\"") && tag.utf8.last == UInt8(ascii: "\"")) {
            return tag
        }
        return "\"" + tag + "\""
    }
}
