/// What can go wrong in the store, in words a user can act on.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    case invalidKey(String, reason: String)
    case invalidName(String, reason: String)
    case invalidAssignment(String)
    case invalidArgument(String)
    case instanceNotFound(String)
    case instanceExists(String)
    case noInstances
    case ambiguousInstance([String])
    case identityInUse(what: String, owner: String)
    case keyNotSet(key: String, instance: String)
    /// `size`: nil when it was not read to its end.
    case valueTooLarge(key: String, size: Int?, limit: Int)
    case deviceNotFound(device: String, instance: String)
    case deviceExists(device: String, instance: String)
    case imageNotFound(String)
    case journalPruned(since: Int, firstKept: Int)
    case newerSchema(found: Int, supported: Int)
    case notGuestapiDatabase(String)
    case permissionDenied(String)
    case io(String)
    case sqlite(SQLiteError)

    public var description: String {
        switch self {
        case .invalidKey(let key, let reason): "invalid key \(quoted(key)): \(reason)"
        case .invalidName(let name, let reason): "invalid name \(quoted(name)): \(reason)"
        case .invalidAssignment(let text): "invalid assignment \(quoted(text)): expected key=value"
        case .invalidArgument(let message): message
        case .instanceNotFound(let name): "instance \(quoted(name)) not found"
        case .instanceExists(let name): "instance \(quoted(name)) already exists"
        case .noInstances: "no instances: create one with 'guestapi-admin instance create NAME'"
        case .ambiguousInstance(let names):
            "several instances (\(names.joined(separator: ", "))): name one with --instance or GUESTAPI_INSTANCE"
        case .identityInUse(let what, let owner): "\(what) already belongs to instance \(quoted(owner))"
        case .keyNotSet(let key, let instance): "key \(quoted(key)) is not set on instance \(quoted(instance))"
        case .valueTooLarge(let key, let size, let limit):
            "value of \(quoted(key)) is \(size.map { "\($0) bytes, more than" } ?? "larger than") the maximum value size, \(limit) bytes "
                + "(guestapi-admin settings set max-value-size)"
        case .deviceNotFound(let device, let instance): "device \(quoted(device)) not found on instance \(quoted(instance))"
        case .deviceExists(let device, let instance): "device \(quoted(device)) already exists on instance \(quoted(instance))"
        case .imageNotFound(let fp): "image \(quoted(fp)) not found"
        case .journalPruned(let since, let firstKept): "journal entries after \(since) were pruned; the oldest kept is \(firstKept)"
        case .newerSchema(let found, let supported):
            "database schema version \(found) is newer than this guestapi supports (\(supported)); upgrade guestapi"
        case .notGuestapiDatabase(let path):
            "file \(path) is a SQLite database but not a guestapi one (it has tables, and no guestapi schema version)"
        case .permissionDenied(let path): "permission denied: \(path) (run as root, or as the user who owns it)"
        case .io(let message): message
        case .sqlite(let error): error.description
        }
    }
}

private func quoted(_ s: String) -> String {
    "\"" + s.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7f ? String($0) : $0.escaped(asASCII: true) }.joined()
        + "\""
}
