import Foundation
import Testing

/// Hostile guests across real PID namespaces (README, "How a caller is recognized"): two instances whose inits
/// run in namespaces of their own (`unshare --pid --fork --mount-proc`), registered by the
/// inner shell's host pid. On every endpoint neither reads a byte of the other's data, and a
/// process that forges an LXC monitor's command line naming the other gains nothing.
@Suite(.timeLimit(.minutes(3))) struct HostileIsolationTests {
    struct Tenant {
        var name: String
        var secret: String
        var ownKey: String
        var metaData: String
        var device: String
        var images: Bool

        var options: [String] {
            [
                "--config", "user.secret=\(secret)", "--config", "\(ownKey)=\(name)-own", "--config", "user.meta-data=\(metaData)",
                "--config", "security.guestapi.images=\(images)",
            ]
        }

        /// What must never reach the other instance.
        var markers: [String] { [secret, ownKey, "\(name)-own", metaData, device, "live-\(name)"] }
    }

    static let tenants = [
        Tenant(
            name: "alpha", secret: "ALPHA-SECRET-51e0", ownKey: "user.only-alpha", metaData: "zone: alpha-zone",
            device: "alpha-disk", images: true),
        Tenant(
            name: "bravo", secret: "OTHER-SECRET", ownKey: "user.only-bravo", metaData: "zone: bravo-zone",
            device: "bravo-disk", images: false),
    ]

    static let ownNamespace = ["/usr/bin/unshare", "--pid", "--fork", "--mount-proc"]

    /// Both tenants, each in a PID namespace of its own, with a device each and a public image.
    static func start() throws -> (host: GuestHost, guests: [Guest], image: String) {
        let host = try GuestHost()
        let guests = try tenants.map { tenant in
            let guest = try host.guest(tenant.name, options: tenant.options, wrapper: ownNamespace)
            try host.cli.succeed("device", "add", tenant.device, "disk", "path=/mnt/\(tenant.device)", "--instance", tenant.name)
            return guest
        }
        let image = try GuestAPIImageTests.importImage(host, isPublic: true)
        return (host, guests, image.fingerprint)
    }

    /// Every endpoint, plain and replayed events included, as text.
    static func everyAnswer(_ guest: Guest, image: String) throws -> [(path: String, answer: Answer)] {
        let paths = [
            "/", "/1.0", "/1.0/config", "/1.0/config/user.secret", "/1.0/config/user.only-alpha", "/1.0/config/user.only-bravo",
            "/1.0/devices", "/1.0/meta-data", "/1.0/images/\(image)/export",
        ]
        var answers = try paths.map { ($0, try guest.answer($0)) }
        // A plain stream, replaying everything journaled, cut by curl after a moment.
        for path in ["/1.0/events?since=0", "/1.0/events?since=0&type=config,device,lifecycle"] {
            answers.append((path, Answer(try guest.request(path, "-N", "--max-time", "1"))))
        }
        return answers
    }

    @Test(arguments: [0, 1])
    func neitherReadsTheOthersDataOnAnyEndpoint(index: Int) throws {
        let (_, guests, image) = try Self.start()
        let (me, other, guest) = (Self.tenants[index], Self.tenants[1 - index], guests[index])
        // Really apart: each shell sees itself as pid 1 of a namespace that is neither the host's nor the other's.
        #expect(try guest.process.run("echo $$").text == "1\n")
        let namespaces = guests.map { inode("/proc/\($0.process.shellPID)/ns/pid") }
        #expect(Set(namespaces + [inode("/proc/self/ns/pid")]).count == 3)

        let answers = try Self.everyAnswer(guest, image: image)
        for (path, answer) in answers {
            for marker in other.markers {
                #expect(!answer.text.contains(marker), "\(me.name) read \(marker) at \(path): \(answer)")
            }
        }
        let byPath = Dictionary(answers.map { ($0.path, $0.answer) }, uniquingKeysWith: { first, _ in first })
        #expect(byPath["/1.0/config/user.secret"] == .raw(me.secret))
        #expect(byPath["/1.0/config/\(other.ownKey)"] == .notFound)
        #expect(byPath["/1.0/devices"]?.text.contains(me.device) == true)
        #expect(byPath["/1.0/meta-data"]?.text.hasSuffix(me.metaData) == true)
        #expect(byPath["/1.0/images/\(image)/export"]?.status == (me.images ? 200 : 403))
        #expect(byPath["/1.0/events?since=0"]?.text.contains(me.secret) == true, "the replay holds its own history")
    }

    @Test func liveEventsOfOneNeverReachTheOther() throws {
        let (host, guests, _) = try Self.start()
        let subscribers = try guests.map { guest in
            [
                try EventSubscriber(in: guest.process, socket: host.socket),
                try EventSubscriber(in: guest.process, socket: host.socket, query: "since=0", transport: .stream),
            ]
        }
        for tenant in Self.tenants {
            try host.cli.succeed("set", "user.secret", tenant.secret + "-2", "--instance", tenant.name)
            try host.cli.succeed("device", "set", tenant.device, "readonly=true", "--instance", tenant.name)
            try host.cli.succeed("set", "user.note", "live-\(tenant.name)", "--instance", tenant.name)
        }
        for (index, tenant) in Self.tenants.enumerated() {
            let other = Self.tenants[1 - index]
            for subscriber in subscribers[index] {
                let messages = try subscriber.waitForMessage(containing: "live-\(tenant.name)")
                for message in messages {
                    for marker in other.markers {
                        #expect(!message.contains(marker), "\(tenant.name)'s \(subscriber.transport) got \(marker): \(message)")
                    }
                }
            }
        }
    }

    /// curl for `path` as the child of a process whose command line reads
    /// `[lxc monitor] /var/lib/lxc NAME`: `exec -a` sets its argv[0], and NAME is also its last
    /// argument, so the line ends as a real monitor's does. `; exit` keeps bash from exec'ing
    /// curl in its place.
    static func forgedMonitorCurl(naming name: String, socket: String, path: String) -> [String] {
        [
            "/bin/bash", "-c",
            #"exec -a "$0" /bin/bash -c 'curl -s -i --max-time 10 --unix-socket "$0" "http://guest$1"; exit $?' "$1" "$2" "$3""#,
            "[lxc monitor] /var/lib/lxc \(name)", socket, path, name,
        ]
    }

    @Test func aForgedLXCMonitorGainsNothing() throws {
        let (host, guests, _) = try Self.start()
        chmod(host.state.directory, 0o755)  // so that an unprivileged forger reaches the socket
        let (alpha, bravo) = (Self.tenants[0], Self.tenants[1])
        let forged = Self.forgedMonitorCurl(naming: bravo.name, socket: host.socket, path: "/1.0/config/user.secret")
        func answer(in process: GuestProcess) throws -> Answer {
            let output = try process.run(shellCommand(forged))
            return Answer(try #require(HTTPResponse(output.stdout), "forged curl exited \(output.status): \(output.stderr)"))
        }

        // Not even a root process in the host's PID namespace is a monitor by its title: a
        // `--pid=host` container's is that (README, "How a caller is recognized", rule 4).
        let control = try Command(forged[0], Array(forged.dropFirst())).run()
        #expect(HTTPResponse(control.stdout).map(Answer.init) == .notInContainer)

        // Inside alpha's namespace: still alpha, whatever its parent's command line says.
        #expect(try answer(in: guests[0].process) == .raw(alpha.secret))
        // In a namespace of its own (the monitor is seen in two namespaces): no instance.
        let namespaced = try host.stranger(wrapper: Self.ownNamespace)
        #expect(try answer(in: namespaced.process) == .notInContainer)
        // Not root: no instance.
        let unprivileged = try host.stranger(wrapper: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
        #expect(try answer(in: unprivileged.process) == .notInContainer)
    }
}
