/// Host settings: what the host decides for every instance and every writer, kept in the
/// database so that every process that writes (the CLI, hooks, the daemon) holds to them.
extension Store {
    /// The settings there are, with their bounds (README, "Host settings").
    public enum Setting: String, CaseIterable, Sendable {
        /// The largest config value, in bytes. The schema holds every writer to it.
        case maxValueSize = "max-value-size"
        /// How long an identity token is good for, in seconds.
        case identityLifetime = "identity-lifetime"
        /// The `iss` of identity tokens: a URL (an https one, for OIDC verifiers).
        case identityIssuer = "identity-issuer"
        /// A SPIFFE trust domain: tokens' `sub` becomes `spiffe://DOMAIN/guestapi/HOST/NAME`.
        case identitySpiffeDomain = "identity-spiffe-domain"

        /// The bounds of a whole-number setting; nil for a text one.
        public var range: ClosedRange<Int>? {
            switch self {
            // SQLite refuses a row past 1 GB, and a change's journal row holds the old value and
            // the new one: 256 MiB leaves room for both.
            case .maxValueSize: 1024...(256 << 20)
            case .identityLifetime: 1...3600
            case .identityIssuer, .identitySpiffeDomain: nil
            }
        }

        /// The default of a whole-number setting (a text one has none: the daemon derives it).
        public var defaultValue: Int? {
            switch self {
            case .maxValueSize: Store.defaultMaxValueSize
            case .identityLifetime: 600
            case .identityIssuer, .identitySpiffeDomain: nil
            }
        }

        /// `text` as this setting's value, or why it cannot be. Sizes take KiB, MiB and GiB.
        public func parse(_ text: String) throws(StoreError) -> SQLValue {
            switch self {
            case .maxValueSize:
                guard let bytes = Self.bytes(text), range!.contains(bytes) else {
                    throw .invalidArgument("\(rawValue) takes a size from 1024 to \(256 << 20) bytes (or with KiB, MiB, GiB)")
                }
                return .int(bytes)
            case .identityLifetime:
                guard text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let seconds = Int(text), range!.contains(seconds) else {
                    throw .invalidArgument("\(rawValue) takes seconds, from 1 to 3600")
                }
                return .int(seconds)
            case .identityIssuer:
                let scheme = text.hasPrefix("https://") ? 8 : text.hasPrefix("http://") ? 7 : 0
                guard scheme > 0, text.utf8.count > scheme, text.utf8.count <= 256, !text.hasSuffix("/"),
                    text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") })
                else { throw .invalidArgument("\(rawValue) takes an https:// URL, no query, no trailing slash, at most 256 bytes") }
                return .text(text)
            case .identitySpiffeDomain:
                // SPIFFE's trust domain: lowercase letters, digits, dots, dashes and underscores.
                guard !text.isEmpty, text.utf8.count <= 255,
                    text.utf8.allSatisfy({
                        ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D || $0 == 0x5F
                    })
                else { throw .invalidArgument("\(rawValue) takes a trust domain: lowercase letters, digits, '.', '-', '_'") }
                return .text(text)
            }
        }

        /// `8388608`, `8192KiB`, `8MiB`, `1GiB`: a size in bytes, nil when it is none (or too large).
        static func bytes(_ text: String) -> Int? {
            let units: [(suffix: String, shift: Int)] = [("GiB", 30), ("MiB", 20), ("KiB", 10), ("", 0)]
            for unit in units where text.hasSuffix(unit.suffix) {
                let digits = text.dropLast(unit.suffix.count)
                guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(digits), number >= 0,
                    number <= Int.max >> unit.shift
                else { return nil }
                return number << unit.shift
            }
            return nil
        }
    }

    public static let defaultMaxValueSize = 8 << 20

    /// A whole-number setting's value, or its default when unset.
    public func setting(_ setting: Setting) throws -> Int {
        try wrapped { try db.integer("SELECT value FROM settings WHERE name = ?", .text(setting.rawValue)) } ?? setting.defaultValue ?? 0
    }

    /// A text setting's value; nil when unset.
    public func textSetting(_ setting: Setting) throws -> String? {
        try wrapped { try db.statement("SELECT value FROM settings WHERE name = ?").first(.text(setting.rawValue)) { $0.text(0) } }
    }

    /// Every setting, as text, with whether it was set (a text setting unset shows "").
    public func settings() throws -> [(setting: Setting, value: String, isSet: Bool)] {
        let set = Dictionary(
            try wrapped {
                try db.statement("SELECT name, value FROM settings").map { ($0.text(0), $0.text(1)) }
            }, uniquingKeysWith: { $1 })
        return Setting.allCases.map { ($0, set[$0.rawValue] ?? $0.defaultValue.map(String.init) ?? "", set[$0.rawValue] != nil) }
    }

    /// Sets (or with nil, unsets) a setting, from its text.
    public func setSetting(_ setting: Setting, _ text: String?) throws {
        let value = try text.map { try setting.parse($0) }
        try write {
            if let value {
                try db.statement("INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value")
                    .run(.text(setting.rawValue), value)
            } else {
                try db.statement("DELETE FROM settings WHERE name = ?").run(.text(setting.rawValue))
            }
        }
    }

    /// The largest config value a writer may store.
    public func maxValueSize() throws -> Int { try setting(.maxValueSize) }
}
