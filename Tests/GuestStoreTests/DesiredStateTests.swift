import GuestStore
import Testing

@Suite("desired state")
struct DesiredStateTests {
    func state(_ json: String) throws -> DesiredState { try DesiredState(json: Array(json.utf8)) }

    /// The message of the error reading `json` throws.
    func failure(_ json: String) -> String? {
        #expect(throws: StoreError.self) { try state(json) }.map { "\($0)" }
    }

    @Test func oneInstanceObject() throws {
        let state = try state(
            #"""
            {"name": "c1", "type": "virtual-machine", "pid": 4242, "pid_start_time": 99, "cgroup": "/lxc.payload.c1",
             "root_uid": 1000000, "config": {"user.a": "1", "user.empty": ""},
             "devices": {"eth0": {"type": "nic", "hwaddr": "00:16:3e:00:00:01"}},
             "id": 3, "state": "running", "pidns_inode": 4026531836, "created_at": "2024-01-01T00:00:00Z"}
            """#)
        #expect(state.instances.count == 1)
        let instance = try #require(state.instances.first)
        #expect(instance.name == "c1")
        #expect(instance.type == .virtualMachine)
        #expect(instance.pid == 4242 && instance.pidStartTime == 99 && instance.rootUID == 1_000_000)
        #expect(instance.cgroup == "/lxc.payload.c1")
        #expect(instance.config == ["user.a": Array("1".utf8), "user.empty": []])
        #expect(instance.devices == ["eth0": ["type": "nic", "hwaddr": "00:16:3e:00:00:01"]])
    }

    @Test func absentAndNullFieldsStayNil() throws {
        let state = try state(#"{"instances": [{"name": "a"}, {"name": "b", "pid": null, "cgroup": null, "root_uid": null}]}"#)
        #expect(state.instances.map(\.name) == ["a", "b"])
        for instance in state.instances {
            #expect(instance.type == nil && instance.pid == nil && instance.cgroup == nil && instance.rootUID == nil)
            #expect(instance.config == nil && instance.devices == nil)
        }
        #expect(try self.state(#"{"instances": []}"#).instances.isEmpty)
    }

    @Test func base64ConfigValues() throws {
        let state = try state(
            #"{"name": "a", "config": {"user.bin": {"base64": "AP8KIg=="}, "user.none": {"base64": ""}, "user.text": "é"}}"#)
        #expect(state.instances.first?.config == ["user.bin": [0x00, 0xFF, 0x0A, 0x22], "user.none": [], "user.text": [0xC3, 0xA9]])
    }

    @Test(arguments: [
        // Syntax first, with its place.
        (#"{"name": "a",}"#, "invalid JSON at line 1, column 14: expected a member name in quotes"),
        ("", "invalid JSON at line 1, column 1: unexpected end of the document"),
        // The document.
        ("[]", #"the document is an array: expected an object with "instances""#),
        (#""a""#, #"the document is a string: expected an object with "instances""#),
        ("{}", #"instances: missing (the document is {"instances": [...]})"#),
        (#"{"instance": []}"#, "instance: unknown field (known: instances)"),
        (#"{"instances": {}}"#, "instances: expected an array, got an object"),
        (#"{"instances": [1]}"#, "instances[0]: expected an object, got a number"),
        // Unknown fields, by their path.
        (
            #"{"instances": [{"name": "a"}, {"name": "b", "confg": {}}]}"#,
            "instances[1].confg: unknown field (known: name, type, pid, pid_start_time, cgroup, container, root_uid, config, devices, id, state, pidns_inode, created_at)"
        ),
        (
            #"{"name": "a", "Name": "b"}"#,
            "Name: unknown field (known: name, type, pid, pid_start_time, cgroup, container, root_uid, config, devices, id, state, pidns_inode, created_at)"
        ),
        (#"{"instances": [{"type": "container"}]}"#, "instances[0].name: missing"),
        (#"{"instances": [{"name": "a"}, {"name": "a"}]}"#, #"instances[1].name: instance "a" is listed twice"#),
        // Wrong types and values.
        (#"{"instances": [{"name": 7}]}"#, "instances[0].name: expected a string, got a number"),
        (#"{"name": "a b"}"#, #"name: invalid name "a b": printable ASCII only, no spaces or '/'"#),
        (#"{"instances": [{"name": "a", "pid": "12"}]}"#, "instances[0].pid: expected a number, got a string"),
        (#"{"name": "a", "pid": 0}"#, "pid: expected a whole number from 1 to 2147483647"),
        (#"{"name": "a", "pid": 2147483648}"#, "pid: expected a whole number from 1 to 2147483647"),
        (#"{"name": "a", "pid": 12.0}"#, "pid: expected a whole number from 1 to 2147483647"),
        (#"{"name": "a", "root_uid": -1}"#, "root_uid: expected a whole number from 0 to 4294967295"),
        (#"{"name": "a", "pid_start_time": 1e3}"#, "pid_start_time: expected a whole number from 0 to 9223372036854775807"),
        (#"{"name": "a", "cgroup": false}"#, "cgroup: expected a string, got a boolean"),
        (#"{"name": "a", "type": "vm"}"#, #"type: "vm" is not container or virtual-machine"#),
        (#"{"name": "a", "config": []}"#, "config: expected an object, got an array"),
        // Config keys and values.
        (
            #"{"instances": [{"name": "a", "config": {"nodot": "1"}}]}"#,
            #"instances[0].config.nodot: invalid key "nodot": expected namespace.name"#
        ),
        (#"{"name": "a", "config": {"user.a b": "1"}}"#, #"config.user.a b: invalid key "user.a b": not printable ASCII without spaces"#),
        (#"{"name": "a", "config": {"user.a": 1}}"#, #"config.user.a: expected a string (or {"base64": "…"}), got a number"#),
        (#"{"name": "a", "config": {"user.a": null}}"#, #"config.user.a: expected a string (or {"base64": "…"}), got null"#),
        (
            #"{"name": "a", "config": {"user.a": {"base64": "AA==", "x": 1}}}"#,
            #"config.user.a: expected a string (or {"base64": "…"}), got an object"#
        ),
        (#"{"name": "a", "config": {"user.a": {"base64": "A"}}}"#, "config.user.a.base64: expected base64 text"),
        (#"{"name": "a", "config": {"user.a": {"base64": "AA== "}}}"#, "config.user.a.base64: expected base64 text"),
        (#"{"name": "a", "config": {"user.a": {"base64": 1}}}"#, "config.user.a.base64: expected base64 text"),
        // Devices.
        (
            #"{"instances": [{"name": "a", "devices": {"eth0": {"type": "nick"}}}]}"#,
            #"instances[0].devices.eth0.type: unknown device type "nick": use one of disk, gpu, infiniband, nic, none, pci, proxy, tpm, unix-block, unix-char, unix-hotplug, usb"#
        ),
        (#"{"name": "a", "devices": {"eth0": {"name": "x"}}}"#, "devices.eth0.type: missing"),
        (#"{"name": "a", "devices": {"eth0": {"type": ""}}}"#, "devices.eth0.type: missing"),
        (#"{"name": "a", "devices": {"eth0": {"type": "nic", "mtu": 1500}}}"#, "devices.eth0.mtu: expected a string, got a number"),
        (#"{"name": "a", "devices": {"eth0": "nic"}}"#, "devices.eth0: expected an object, got a string"),
        (
            #"{"name": "a", "devices": {"a/b": {"type": "nic"}}}"#,
            #"devices.a/b: invalid name "a/b": printable ASCII only, no spaces or '/'"#
        ),
    ])
    func invalid(json: String, message: String) {
        #expect(failure(json) == message)
    }
}
