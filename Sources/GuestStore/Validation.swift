/// The input rules of the admin CLI (README, "Admin CLI"), checked before anything is written.
public enum Validation {
    /// Keys are `namespace.name`: printable ASCII, no whitespace or `/`, at most 256 bytes.
    public static func checkKey(_ key: String) throws {
        let bytes = key.utf8
        if bytes.isEmpty { throw StoreError.invalidKey(key, reason: "empty") }
        if bytes.count > 256 { throw StoreError.invalidKey(key, reason: "longer than 256 bytes") }
        if let bad = bytes.first(where: { $0 <= 0x20 || $0 >= 0x7f || $0 == UInt8(ascii: "/") }) {
            throw StoreError.invalidKey(key, reason: bad == UInt8(ascii: "/") ? "contains '/'" : "not printable ASCII without spaces")
        }
        guard let dot = bytes.firstIndex(of: UInt8(ascii: ".")), dot > bytes.startIndex, bytes.index(after: dot) < bytes.endIndex else {
            throw StoreError.invalidKey(key, reason: "expected namespace.name")
        }
    }

    /// Instance and device names: 1 to 64 printable ASCII bytes, no whitespace or `/`.
    public static func checkName(_ name: String) throws {
        let bytes = Array(name.utf8)
        if bytes.isEmpty || bytes.count > 64 { throw StoreError.invalidName(name, reason: "must be 1 to 64 bytes") }
        if bytes.contains(where: { $0 <= 0x20 || $0 >= 0x7f || $0 == UInt8(ascii: "/") }) {
            throw StoreError.invalidName(name, reason: "printable ASCII only, no spaces or '/'")
        }
    }

    /// Parses config `key=value` arguments (`key=` is an empty value).
    public static func assignments(_ items: [String]) throws -> [(key: String, value: String)] {
        try parse(items, check: checkKey)
    }

    /// Parses device `key=value` arguments: device keys have no namespace.
    public static func deviceAssignments(_ items: [String]) throws -> [(key: String, value: String)] {
        try parse(items, check: checkDeviceKey)
    }

    static func parse(_ items: [String], check: (String) throws -> Void) throws -> [(key: String, value: String)] {
        try items.map { item in
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else { throw StoreError.invalidAssignment(item) }
            let key = String(item[..<eq])
            try check(key)
            return (key, String(item[item.index(after: eq)...]))
        }
    }

    /// The device types Incus knows (`none` masks a profile's device there).
    public static let deviceTypes = [
        "disk", "gpu", "infiniband", "nic", "none", "pci", "proxy", "tpm", "unix-block",
        "unix-char", "unix-hotplug", "usb",
    ]

    public static func checkDeviceType(_ type: String) throws {
        guard deviceTypes.contains(type) else {
            throw StoreError.invalidArgument("unknown device type \"\(type)\": use one of \(deviceTypes.joined(separator: ", "))")
        }
    }

    /// Device keys (`path`, `hwaddr`, `type`...) have no namespace.
    static func checkDeviceKey(_ key: String) throws {
        let bytes = Array(key.utf8)
        if bytes.isEmpty || bytes.count > 256 || bytes.contains(where: { $0 <= 0x20 || $0 >= 0x7f || $0 == UInt8(ascii: "/") }) {
            throw StoreError.invalidKey(key, reason: "device keys are 1 to 256 printable ASCII bytes, no spaces or '/'")
        }
    }

    /// An instance as `apply` or a runtime's hook gives it: its name, config keys, and each
    /// device's name, keys and type.
    public static func checkInstance(name: String, configKeys: some Sequence<String>, devices: [String: [String: String]]) throws {
        try checkName(name)
        for key in configKeys { try checkKey(key) }
        for (device, settings) in devices {
            try checkName(device)
            for key in settings.keys { try checkDeviceKey(key) }
            guard let type = settings["type"], !type.isEmpty else {
                throw StoreError.invalidArgument("device \(device) of \(name) has no type")
            }
            try checkDeviceType(type)
        }
    }
}
