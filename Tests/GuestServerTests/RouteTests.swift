import GuestHTTP
import GuestRoutes
import NIOHTTP1
import Testing

@testable import GuestServer

/// From request target to endpoint: `GuestRequest.path`, then `Route`.
@Suite("routes")
struct RouteTests {
    static func route(_ target: String) -> Route? {
        Route(path: GuestRequest(method: .GET, target: target, minorVersion: 1).path)
    }

    @Test(arguments: [
        ("/", Route.root), ("/1.0", .info), ("/1.0/config", .config), ("/1.0/config/user.foo", .configKey("user.foo")),
        ("/1.0/devices", .devices), ("/1.0/events", .events), ("/1.0/meta-data", .metaData),
        ("/1.0/images/4f8a2c/export", .imageExport(fingerprint: "4f8a2c")),
    ])
    func everyEndpoint(path: String, route: Route) {
        #expect(Route(path: path[...]) == route)
    }

    @Test(arguments: [
        ("/1.0/config/user%2Efoo", Route.configKey("user.foo")),
        ("/1.0/config/user.a%20b%25", .configKey("user.a b%")),
        ("/1.0/config/%75ser.%E2%82%AC", .configKey("user.€")),
        // One segment as sent: the decoded slash is part of the key, which no key has.
        ("/1.0/config/user.a%2Fb", .configKey("user.a/b")),
        ("/1.0/config/..%2F..%2Fuser.secret", .configKey("../../user.secret")),
        ("/1.0/images/4f%38a/export", .imageExport(fingerprint: "4f8a")),
        ("/1.0/images/a%2Fb/export", .imageExport(fingerprint: "a/b")),
    ])
    func keysArePercentDecoded(path: String, route: Route) {
        #expect(Route(path: path[...]) == route)
    }

    @Test(arguments: [
        "", "/1.0/", "/1.0/config/", "/1.0/devices/", "/1.0/meta-data/", "/1.0/events/", "//", "//1.0", "/1.0//config",
        "//1.0/config/user.a", "/1.0/config//user.a", "/1.0/config/user.a/", "/1.0/config/a/b", "/1.0%2Fconfig", "/1.0/Config",
        "/1.1", "/1.0/config/%zz", "/1.0/config/user.%2", "/1.0/config/user.%", "/1.0/images//export", "/1.0/images/a/b/export",
        "/1.0/images/abc", "/1.0/images/export", "/1.0/images/%zz/export", "1.0/config", "*", "guest:80",
        "/1.0/../1.0/config", "/1.0/./config", "/1.0/config;x=1",
    ])
    func unknownPaths(target: String) {
        #expect(Self.route(target) == nil)
    }

    @Test(arguments: [
        ("/1.0/config?recursion=1", "/1.0/config", Route.config),
        ("/1.0?", "/1.0", .info),
        ("/1.0/config/user.a?b=c?d", "/1.0/config/user.a", .configKey("user.a")),
        ("/1.0/config/user.a%3Fb", "/1.0/config/user.a%3Fb", .configKey("user.a?b")),
        ("http://guest/1.0/config/user.a?x=1", "/1.0/config/user.a", .configKey("user.a")),
        ("HTTP://guest:80/1.0", "/1.0", .info),
        ("http://guest", "/", .root),
        ("http://guest?x=/1.0", "/", .root),
    ])
    func targetsBecomePaths(target: String, path: String, route: Route) {
        let request = GuestRequest(method: .GET, target: target, minorVersion: 1)
        #expect(request.path == path[...])
        #expect(Route(path: request.path) == route)
    }

    @Test func aPathWithSchemeSyntaxIsNoAbsoluteForm() {
        #expect(GuestRequest(method: .GET, target: "/x://y/1.0", minorVersion: 1).path == "/x://y/1.0")
        #expect(GuestRequest(method: .GET, target: "/1.0/config?next=http://guest/1.0", minorVersion: 1).path == "/1.0/config")
    }

    @Test(
        arguments: [
            ("/1.0/events?type=config&since=5", "since", "5"),
            ("/1.0/events?type=config&since=5", "type", "config"),
            ("/1.0/events?since=1%32", "since", "12"),
            ("/1.0/events?sinc%65=3", "since", "3"),
            ("/1.0/events?since=1&since=2", "since", "1"),
            ("/1.0/events?since", "since", ""),
            ("/1.0/events?since=&since=2", "since", ""),
            ("/1.0/events?since=a=b", "since", "a=b"),
            ("/1.0/events?&&since=7&", "since", "7"),
            // A bad escape stays, so that it fails validation rather than vanishing.
            ("/1.0/events?since=%zz", "since", "%zz"),
            ("/1.0/events?since=1%2", "since", "1%2"),
            ("/1.0/events", "since", nil),
            ("/1.0/events?type=config", "since", nil),
            ("/1.0/events?sincex=1", "since", nil),
            ("/1.0/events?%zz=1", "since", nil),
        ] as [(String, String, String?)])
    func queryParameters(target: String, name: String, value: String?) {
        #expect(GuestRequest(method: .GET, target: target, minorVersion: 1).query(name) == value)
    }

    @Test func methodsEachEndpointAllows() {
        let all: [Route] = [.root, .info, .config, .configKey("user.a"), .devices, .events, .metaData, .imageExport(fingerprint: "a")]
        for route in all {
            #expect(route.allows(.GET) && route.allows(.HEAD))
            #expect(route.allows(.PATCH) == (route == .info))
            #expect(!route.allows(.POST) && !route.allows(.PUT) && !route.allows(.DELETE))
            #expect(route.allowedWhenDisabled(.GET) == (route == .root || route == .info))
        }
        #expect(!Route.info.allowedWhenDisabled(.PATCH))
        #expect(Route.root.allowedWhenDisabled(.PATCH))
    }
}
