import Foundation
import GuestJSON
import GuestStore

/// The part of an OCI container's state a hook reads (runtime-spec `state`), and the names the
/// runtimes give the container there.
struct OCIState {
    var id: String
    var status: String
    var pid: Int?
    /// The bundle's folder; podman's and CRI-O's lie in their container storage.
    var bundle: String?
    var annotations: [String: String]

    init(json bytes: [UInt8]) throws {
        let document: JSONText
        do { document = try JSONText(parsing: bytes) } catch { throw StoreError.invalidArgument("container state: \(error)") }
        guard case .object(let members) = document else { throw StoreError.invalidArgument("container state: not an object") }
        func field(_ name: String) -> JSONText? { members.first { $0.key == name }?.value }
        guard case .string(let id)? = field("id"), case .string(let status)? = field("status") else {
            throw StoreError.invalidArgument("container state: no id or status")
        }
        self.id = id
        self.status = status
        if case .integer(let pid)? = field("pid") { self.pid = pid }
        if case .string(let bundle)? = field("bundle") { self.bundle = bundle }
        annotations = [:]
        if case .object(let entries)? = field("annotations") {
            for case (let key, .string(let value)) in entries { annotations[key] = value }
        }
    }

    /// `<namespace>_<pod>_<container>` under Kubernetes: CRI-O puts the kubelet's names in the
    /// spec's annotations. (Under podman any user may write them: a name is the tenant's to
    /// choose, whatever it says; the container's id is what owns the instance.)
    var kubernetesName: String? {
        guard let namespace = annotations["io.kubernetes.pod.namespace"], let pod = annotations["io.kubernetes.pod.name"],
            let container = annotations["io.kubernetes.container.name"]
        else { return nil }
        return Self.valid(namespace + "_" + pod + "_" + container)
    }

    /// The name podman (or CRI-O) gave the container in its storage: the bundle is
    /// `<graph root>/<driver>-containers/<id>/userdata`, and `containers.json` beside the
    /// containers' folders lists each id with its names. podman's state carries no name.
    var storageName: String? {
        guard let bundle else { return nil }
        let folder = URL(fileURLWithPath: bundle).standardized
        guard folder.lastPathComponent == "userdata", folder.deletingLastPathComponent().lastPathComponent == id else { return nil }
        let list = folder.deletingLastPathComponent().deletingLastPathComponent()
        guard list.lastPathComponent.hasSuffix("-containers"),
            let bytes = try? Input.read(list.appendingPathComponent("containers.json").path, limit: 64 << 20),
            case .array(let containers)? = try? JSONText(parsing: bytes)
        else { return nil }
        for case .object(let members) in containers where members.contains(where: { $0.key == "id" && $0.value == .string(id) }) {
            guard case .array(let names)? = members.first(where: { $0.key == "names" })?.value,
                case .string(let name)? = names.first
            else { return nil }
            return Self.valid(name)
        }
        return nil
    }

    private static func valid(_ name: String) -> String? {
        (try? Validation.checkName(name)) == nil ? nil : name
    }
}

/// guestapi's annotations on a container, kept to what a tenant may give: the instance's
/// name (`org.linuxcontainers.guestapi.instance`), `user.*` and `cloud-init.*` config
/// (`…config.<key>`), and devices of Incus's types (`…device.<name>.<setting>`). Everything
/// else under the prefix (`security.*`, `volatile.*`, `limits.*`, `image.*` keys: the host's
/// decisions) is left out and listed in `ignored`.
struct Annotations {
    static let prefix = "org.linuxcontainers.guestapi."
    var instance: String?
    var config: [String: [UInt8]] = [:]
    var devices: [String: [String: String]] = [:]
    /// The annotations left out.
    var ignored: [String] = []

    init(_ annotations: [String: String]) {
        var deviceAnnotations: [String: [(annotation: String, setting: String, value: String)]] = [:]
        for (key, value) in annotations where key.hasPrefix(Self.prefix) {
            let rest = key.dropFirst(Self.prefix.count)
            if rest == "instance" {
                instance = value
            } else if rest.hasPrefix("config."), case let configKey = String(rest.dropFirst("config.".count)),
                configKey.hasPrefix("user.") || configKey.hasPrefix("cloud-init."), (try? Validation.checkKey(configKey)) != nil
            {
                config[configKey] = Array(value.utf8)
            } else if rest.hasPrefix("device."), case let device = rest.dropFirst("device.".count), let dot = device.firstIndex(of: ".") {
                deviceAnnotations[String(device[..<dot]), default: []].append((key, String(device[device.index(after: dot)...]), value))
            } else {
                ignored.append(key)
            }
        }
        for (name, settings) in deviceAnnotations {
            let device = Dictionary(settings.map { ($0.setting, $0.value) }, uniquingKeysWith: { $1 })
            if (try? Validation.checkInstance(name: "device", configKeys: [], devices: [name: device])) != nil {
                devices[name] = device
            } else {
                ignored += settings.map(\.annotation)
            }
        }
    }
}
