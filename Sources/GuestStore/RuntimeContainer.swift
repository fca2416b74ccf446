/// The container an instance belongs to, as its runtime names it: the one whose hooks may
/// start, re-attach and stop the instance. An instance with none is the host's.
///
/// Written `oci:<id>` (the OCI state's `id`: runc's, podman's or CRI-O's container id) or
/// `lxc:<lxcpath>/<name>`.
public struct RuntimeContainer: Sendable, Hashable, CustomStringConvertible {
    public enum Runtime: String, Sendable, CaseIterable {
        case oci, lxc
    }

    public var runtime: Runtime
    public var id: String

    public init(_ runtime: Runtime, id: String) throws {
        let bytes = id.utf8
        guard !bytes.isEmpty, bytes.count <= 1024, !bytes.contains(where: { $0 <= 0x20 || $0 >= 0x7f }) else {
            throw StoreError.invalidArgument("invalid container id \"\(id.prefix(64))\": 1 to 1024 printable ASCII bytes, no spaces")
        }
        self.runtime = runtime
        self.id = id
    }

    /// `oci:ID`, `lxc:PATH/NAME`, or a bare OCI id.
    public init(parsing text: String) throws {
        for runtime in Runtime.allCases where text.hasPrefix(runtime.rawValue + ":") {
            try self.init(runtime, id: String(text.dropFirst(runtime.rawValue.count + 1)))
            return
        }
        try self.init(.oci, id: text)
    }

    public var description: String { runtime.rawValue + ":" + id }
}
