import Foundation
import Testing

/// README, "What a guest sees": config keys, devices, meta-data and the `security.guestapi` switch.
@Suite(.timeLimit(.minutes(3))) struct GuestAPIConfigTests {
    /// A config value as the admin CLI prints it, without its newline.
    static func adminValue(_ host: GuestHost, _ key: String) throws -> String {
        String(try host.cli.succeed("get", key).dropLast())
    }

    @Test func configListsUserAndCloudInitKeysSorted() throws {
        let guest = try GuestHost().guest(
            "c1", "--config", "user.b=2", "--config", "user.a=1", "--config", "user.Z=z",
            "--config", "user.a&b<c>=x", "--config", "cloud-init.user-data=#cloud-config",
            "--config", "security.foo=1", "--config", "limits.cpu=2", "--config", "image.os=debian")
        let keys = ["cloud-init.user-data", "user.Z", "user.a", "user.a&b<c>", "user.b"]
        #expect(try guest.answer("/1.0/config") == .json("[" + keys.map { "\"/1.0/config/\($0)\"" }.joined(separator: ",") + "]"))
    }

    @Test func configListIsEmptyWithoutGuestKeys() throws {
        let guest = try GuestHost().guest("c1", "--config", "security.foo=1")
        #expect(try guest.answer("/1.0/config") == .json("[]"))
    }

    @Test func keyAnswersTheExactBytes() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "cloud-init.vendor-data=v")
        let value = Array("line one\n\"quoted\" <tag> & é\ttab\n\n".utf8) + [0xff, 0x00, 0x01]
        try host.cli.succeed(["set", "user.data", "--file", "-"], stdin: value)

        #expect(try guest.answer("/1.0/config/user.data") == .raw(value))
        #expect(try guest.answer("/1.0/config/cloud-init.vendor-data") == .raw("v"))
    }

    @Test func emptyValueIsAnEmptyBody() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1")
        try host.cli.succeed("set", "user.empty", "")
        #expect(try guest.answer("/1.0/config/user.empty") == .raw([]))
    }

    @Test(arguments: ["/1.0/config/user%2Efoo", "/1.0/config/%75%73%65%72.foo", "/1.0/config/user.f%6f%6F"])
    func keyIsPercentDecoded(path: String) throws {
        let guest = try GuestHost().guest("c1", "--config", "user.foo=bar", "--config", "user.a&b=amp")
        #expect(try guest.answer(path) == .raw("bar"))
        #expect(try guest.answer("/1.0/config/user.a%26b") == .raw("amp"))
    }

    @Test func keysOutsideUserAndCloudInitAreNotAuthorizedEvenIfTheyExist() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "security.foo=1", "--config", "limits.cpu=2", "--config", "security.guestapi=true")
        try host.cli.succeed("device", "add", "eth0", "nic")
        let keys = [
            "security.foo", "security.guestapi", "limits.cpu", "volatile.cloud-init.instance-id", "volatile.eth0.hwaddr",
            "boot.autostart", "security%2Efoo", "volatile%2Eeth0%2Ehwaddr", "users.x", "cloud-init", "user",
        ]

        for key in keys {
            #expect(try guest.answer("/1.0/config/" + key) == .notAuthorized, "\(key)")
        }
    }

    @Test(arguments: ["user.missing", "cloud-init.user-data", "user.Foo"])
    func missingGuestKeyIsNotFound(key: String) throws {
        let guest = try GuestHost().guest("c1", "--config", "user.foo=1")
        #expect(try guest.answer("/1.0/config/" + key) == .notFound)
    }

    @Test(arguments: ["false", "FALSE", "0", "off", "no", "Off"])
    func guestAPIOffLeavesOnlyRootAndInfo(value: String) throws {
        let host = try GuestHost()
        let guest = try host.guest(
            "c1", "--config", "security.guestapi=\(value)", "--config", "user.foo=1",
            "--config", "security.guestapi.images=true")
        try host.cli.succeed("device", "add", "eth0", "nic")
        let image = try GuestAPIImageTests.importImage(host, isPublic: true)

        #expect(try guest.answer("/") == .json(#"["/1.0"]"#))
        #expect(try guest.answer("/1.0") == GuestAPITests.info(state: "Started"))
        for path in [
            "/1.0/config", "/1.0/config/user.foo", "/1.0/config/user.missing", "/1.0/devices", "/1.0/meta-data",
            "/1.0/events", "/1.0/images/\(image.fingerprint)/export",
        ] {
            #expect(try guest.answer(path) == .notAuthorized, "\(path)")
        }
        #expect(try GuestAPITests.patch(guest, #"{"state":"Ready"}"#) == .notAuthorized)
        #expect(try guest.answer("/1.0") == GuestAPITests.info(state: "Started"))
    }

    @Test func guestAPIOnAgainServesAgain() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1", "--config", "security.guestapi=off", "--config", "user.foo=1")
        #expect(try guest.answer("/1.0/config/user.foo") == .notAuthorized)

        try host.cli.succeed("set", "security.guestapi", "TRUE")

        #expect(try guest.answer("/1.0/config/user.foo") == .raw("1"))
    }

    @Test func devicesAreEmptyWithoutDevices() throws {
        let guest = try GuestHost().guest("c1")
        #expect(try guest.answer("/1.0/devices") == .json("{}"))
    }

    @Test func devicesAreSortedAndNicsShowTheirHardwareAddress() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1")
        try host.cli.succeed("device", "add", "root", "disk", "path=/", "pool=default")
        try host.cli.succeed("device", "add", "eth0", "nic", "network=br0")
        try host.cli.succeed("device", "add", "eth1", "nic", "hwaddr=00:16:3e:aa:bb:cc", "network=br1")
        try host.cli.succeed("device", "add", "data", "disk", "path=/srv/<a&b>", "source=/tmp/x")
        // A nic's own hwaddr wins over a volatile one.
        try host.cli.succeed("set", "volatile.eth1.hwaddr", "00:16:3e:00:00:01")
        let made = try Self.adminValue(host, "volatile.eth0.hwaddr")
        #expect(made.split(separator: ":").count == 6)

        #expect(
            try guest.answer("/1.0/devices")
                == .json(
                    #"{"data":{"path":"/srv/<a&b>","source":"/tmp/x","type":"disk"},"#
                        + #""eth0":{"hwaddr":"\#(made)","network":"br0","type":"nic"},"#
                        + #""eth1":{"hwaddr":"00:16:3e:aa:bb:cc","network":"br1","type":"nic"},"#
                        + #""root":{"path":"/","pool":"default","type":"disk"}}"#))
    }

    @Test func metaDataWithoutUserMetaData() throws {
        let host = try GuestHost()
        let guest = try host.guest("web-1")
        let id = try Self.adminValue(host, "volatile.cloud-init.instance-id")
        #expect(!id.isEmpty)
        #expect(try guest.answer("/1.0/meta-data") == .raw("#cloud-config\ninstance-id: \(id)\nlocal-hostname: web-1\n"))
    }

    @Test func metaDataEndsWithUserMetaDataAsItIs() throws {
        let host = try GuestHost()
        let guest = try host.guest("web-1", "--config", "user.meta-data=public-keys: [\"k\"]\nzone: <a&b>")
        let id = try Self.adminValue(host, "volatile.cloud-init.instance-id")

        #expect(
            try guest.answer("/1.0/meta-data")
                == .raw(
                    "#cloud-config\ninstance-id: \(id)\nlocal-hostname: web-1\npublic-keys: [\"k\"]\nzone: <a&b>"))
    }

    @Test func metaDataFollowsANewCloudInitInstanceID() throws {
        let host = try GuestHost()
        let guest = try host.guest("c1")
        let before = try Self.adminValue(host, "volatile.cloud-init.instance-id")

        try host.cli.succeed("set", "cloud-init.user-data", "#cloud-config\n")

        let after = try Self.adminValue(host, "volatile.cloud-init.instance-id")
        #expect(after != before)
        #expect(try guest.answer("/1.0/meta-data") == .raw("#cloud-config\ninstance-id: \(after)\nlocal-hostname: c1\n"))
    }
}
