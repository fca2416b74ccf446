import Foundation
import Testing

/// Two instances on one daemon: each one's processes see that instance's data only, by any path.
@Suite(.timeLimit(.minutes(3))) struct IsolationTests {
    /// What one instance holds, all of it distinct from the other's.
    struct Tenant {
        var name: String
        var secret: String
        var ownKey: String
        var metaData: String
        var device: String
        var hwaddr: String
        var imagesAllowed: Bool

        var options: [String] {
            [
                "--config", "user.secret=\(secret)", "--config", "\(ownKey)=\(name)-own", "--config", "user.meta-data=\(metaData)",
                "--config", "security.guestapi.images=\(imagesAllowed)",
            ]
        }

        /// Strings that must never reach the other instance.
        var markers: [String] { [name, secret, ownKey, metaData, device, hwaddr] }

        var configList: String {
            "[" + [ownKey, "user.meta-data", "user.secret"].sorted().map { "\"/1.0/config/\($0)\"" }.joined(separator: ",") + "]"
        }

        var devices: String { #"{"\#(device)":{"hwaddr":"\#(hwaddr)","type":"nic"}}"# }
    }

    static let tenants = [
        Tenant(
            name: "alpha", secret: "s3cret-alpha-7d1f", ownKey: "user.only-alpha", metaData: "zone: alpha-zone",
            device: "alpha-nic", hwaddr: "00:16:3e:00:00:aa", imagesAllowed: true),
        Tenant(
            name: "bravo", secret: "s3cret-bravo-9c2e", ownKey: "user.only-bravo", metaData: "zone: bravo-zone",
            device: "bravo-nic", hwaddr: "00:16:3e:00:00:bb", imagesAllowed: false),
    ]

    /// Both tenants registered on one daemon with their devices, and a public image; guests in tenant order.
    static func start() throws -> (host: GuestHost, guests: [Guest], image: String) {
        let host = try GuestHost()
        let guests = try tenants.map { tenant in
            let guest = try host.guest(tenant.name, options: tenant.options)
            try host.cli.succeed("device", "add", tenant.device, "nic", "hwaddr=\(tenant.hwaddr)", "--instance", tenant.name)
            return guest
        }
        let image = try GuestAPIImageTests.importImage(host, isPublic: true)
        return (host, guests, image.fingerprint)
    }

    @Test(arguments: [0, 1])
    func instanceSeesItsOwnDataOnly(index: Int) throws {
        let (host, guests, fingerprint) = try Self.start()
        let (me, other, guest) = (Self.tenants[index], Self.tenants[1 - index], guests[index])
        let id = String(try host.cli.succeed("get", "volatile.cloud-init.instance-id", "--instance", me.name).dropLast())

        #expect(try guest.answer("/1.0/config") == .json(me.configList))
        #expect(try guest.answer("/1.0/config/user.secret") == .raw(me.secret))
        #expect(try guest.answer("/1.0/config/\(me.ownKey)") == .raw("\(me.name)-own"))
        #expect(try guest.answer("/1.0/config/\(other.ownKey)") == .notFound)
        #expect(try guest.answer("/1.0/devices") == .json(me.devices))
        #expect(try guest.answer("/1.0/meta-data") == .raw("#cloud-config\ninstance-id: \(id)\nlocal-hostname: \(me.name)\n\(me.metaData)"))
        let export = try guest.answer("/1.0/images/\(fingerprint)/export")
        #expect(me.imagesAllowed ? export.status == 200 : export == .notAuthorized)
    }

    /// Ways a guest might try to name the other instance: query parameters, headers, encoded
    /// separators, dot segments, NUL bytes. None may yield a byte of the other's data.
    @Test(arguments: [0, 1])
    func noPathReachesTheOtherInstance(index: Int) throws {
        let (_, guests, _) = try Self.start()
        let (me, other, guest) = (Self.tenants[index], Self.tenants[1 - index], guests[index])
        let attempts: [[String]] = [
            ["/1.0/config/\(other.ownKey)"],
            ["/1.0/config/user%2Eonly-\(other.name)"],
            ["/1.0/config/\(other.ownKey)?instance=\(other.name)"],
            ["/1.0/config/\(other.ownKey)%00"],
            ["/1.0/config/\(other.name)%2Fuser.secret"],
            ["/1.0/config/..%2F..%2Finstances%2F\(other.name)%2Fconfig%2Fuser.secret"],
            ["/1.0/config/user.secret%3Finstance=\(other.name)"],
            ["/1.0/instances/\(other.name)/config/user.secret"],
            ["/1.0/config?instance=\(other.name)"],
            ["/1.0/config?project=\(other.name)&instance=\(other.name)"],
            ["/1.0/devices?instance=\(other.name)"],
            ["/1.0/meta-data?instance=\(other.name)"],
            ["/1.0?instance=\(other.name)"],
            ["/1.0/config/user.secret", "-H", "Host: \(other.name)"],
            ["/1.0/config/user.secret", "-H", "X-Incus-Instance: \(other.name)"],
            ["/1.0/../1.0/config/user.secret", "--path-as-is"],
            ["/1.0/config/./user.secret", "--path-as-is"],
            ["//1.0/config/user.secret", "--path-as-is"],
        ]

        for attempt in attempts {
            let answer = Answer(try guest.request(attempt[0], options: Array(attempt.dropFirst())))
            for marker in other.markers {
                #expect(!answer.text.contains(marker), "\(attempt) from \(me.name) answered \(answer)")
            }
        }
        // Asking by name changes nothing: these answer exactly what the plain path does.
        #expect(try guest.answer("/1.0/config?instance=\(other.name)") == .json(me.configList))
        #expect(try guest.answer("/1.0/devices?instance=\(other.name)") == .json(me.devices))
        #expect(try guest.answer("/1.0/config/user.secret", "-H", "Host: \(other.name)") == .raw(me.secret))
    }
}
