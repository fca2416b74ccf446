/// A registered instance: a container or VM and how its processes are recognized.
public struct Instance: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case container
        case virtualMachine = "virtual-machine"
    }

    public var id: Int
    public var name: String
    public var type: Kind
    public var identity: InstanceIdentity
    /// The container whose runtime's hooks may start and stop it; nil: the host's alone.
    public var container: RuntimeContainer?
    public var rootUID: Int
    public var ready: Bool
    /// Its container stopped: no process is recognized as it until it starts again.
    public var stopped: Bool
    /// Identities attached since it was registered.
    public var attachCount: Int
    public var createdNanoseconds: Int
}

/// How a process is recognized as an instance's: init pid (with its start time,
/// so a recycled pid never matches), PID-namespace inode, or cgroup path.
public struct InstanceIdentity: Sendable, Equatable {
    public var initPID: Int?
    public var initStartTime: Int?
    public var pidNamespaceInode: Int?
    public var cgroup: String?

    public init(initPID: Int? = nil, initStartTime: Int? = nil, pidNamespaceInode: Int? = nil, cgroup: String? = nil) {
        self.initPID = initPID
        self.initStartTime = initStartTime
        self.pidNamespaceInode = pidNamespaceInode
        self.cgroup = cgroup
    }
}
