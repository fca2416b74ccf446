/// The input of `guestapi-admin apply`: instances as they should be.
public struct DesiredState: Sendable, Decodable {
    public struct Instance: Sendable, Decodable {
        public var name: String
        public var type: GuestStore.Instance.Kind?
        public var pid: Int?
        public var cgroup: String?
        public var rootUID: Int?
        public var config: [String: String]?
        public var devices: [String: [String: String]]?

        enum CodingKeys: String, CodingKey {
            case name, type, pid, cgroup, config, devices
            case rootUID = "root_uid"
        }
    }

    public var instances: [Instance]
}
