/// What a guest request needs to know about its instance, read fresh for every request.
public struct GuestInstance: Sendable, Equatable {
    public var id: Int
    public var name: String
    public var type: Instance.Kind
    /// When it was created: with the id, names this instance and no other, even in an older
    /// copy of the database whose next id is lower.
    public var createdNanoseconds: Int
    /// Identities attached since it was registered: a connection bound under another count re-checks.
    public var attachCount: Int
    public var ready: Bool
    /// Its container stopped: no process is its.
    public var stopped: Bool
    public var rootUID: Int
    /// `security.guestapi`: default true; false, 0, no and off (any case) turn the API off.
    public var apiEnabled: Bool
    /// `security.guestapi.images`: default false.
    public var imagesEnabled: Bool
    /// `security.guestapi.identity`: default true.
    public var identityEnabled: Bool

    static func flag(_ value: [UInt8]?, default fallback: Bool) -> Bool {
        guard let value else { return fallback }
        switch String(decoding: value, as: UTF8.self).lowercased() {
        case "false", "0", "no", "off": return false
        case "true", "1", "yes", "on": return true
        default: return fallback
        }
    }
}

/// A registered identity candidate: the instance, and its init process (pid and start time),
/// which must still be running for the instance's PID namespace to count.
public struct IdentityMatch: Sendable, Equatable {
    public var instanceID: Int
    public var createdNanoseconds: Int
    public var attachCount: Int
    public var initPID: Int?
    public var initStartTime: Int?
    /// The instance's PID namespace, when it has one of its own: the cgroup rule then matches
    /// only callers in it or in the host's.
    public var pidNamespaceInode: Int?

    public init(
        instanceID: Int, createdNanoseconds: Int, attachCount: Int, initPID: Int? = nil, initStartTime: Int? = nil,
        pidNamespaceInode: Int? = nil
    ) {
        self.instanceID = instanceID
        self.createdNanoseconds = createdNanoseconds
        self.attachCount = attachCount
        self.initPID = initPID
        self.initStartTime = initStartTime
        self.pidNamespaceInode = pidNamespaceInode
    }

    /// Whether `instance` is the instance matched, as it was then (not re-attached since).
    public func isCurrent(_ instance: GuestInstance) -> Bool {
        instance.id == instanceID && instance.createdNanoseconds == createdNanoseconds && instance.attachCount == attachCount
    }
}
