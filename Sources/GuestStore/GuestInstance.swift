/// What a guest request needs to know about its instance, read fresh for every request.
public struct GuestInstance: Sendable, Equatable {
    public var id: Int
    public var name: String
    public var type: Instance.Kind
    public var generation: Int
    public var ready: Bool
    public var rootUID: Int
    /// `security.guestapi`: default true; false, 0, no and off (any case) turn the API off.
    public var apiEnabled: Bool
    /// `security.guestapi.images`: default false.
    public var imagesEnabled: Bool

    static func flag(_ value: [UInt8]?, default fallback: Bool) -> Bool {
        guard let value else { return fallback }
        switch String(decoding: value, as: UTF8.self).lowercased() {
        case "false", "0", "no", "off": return false
        case "true", "1", "yes", "on": return true
        default: return fallback
        }
    }
}

/// A registered identity candidate: the instance and the start time its init pid must have.
public struct IdentityMatch: Sendable, Equatable {
    public var instanceID: Int
    public var generation: Int
    public var initStartTime: Int?
}
