import GuestHTTP
import GuestJSON
import GuestRoutes
import GuestStore
import NIOCore
import NIOHTTP1

/// The guest API as a table of handlers: each takes the caller's instance, already resolved
/// and authorized, and answers from the database as committed now.
struct GuestAPI: Sendable {
    /// The host name reported as `location`.
    let location: String
    let identity: IdentityEndpoint
    /// Told of the state changes this daemon writes itself (which a hold may wait for).
    let held: HeldRequests
    let writes = WriteLimiter()

    /// A handler's answer: most are immediate; a state change waits for the writer.
    enum Answer {
        case now(GuestResponse)
        case later(EventLoopFuture<GuestResponse>)
    }

    /// The answer to `request`, or 304 when the caller names the tag it would have.
    func answer(_ route: Route, _ request: GuestRequest, _ context: RequestContext) throws -> Answer {
        let answer = try compute(route, request, context)
        guard case .now(let response) = answer, let unchanged = response.notModified(request) else { return answer }
        return .now(unchanged)
    }

    private func compute(_ route: Route, _ request: GuestRequest, _ context: RequestContext) throws -> Answer {
        let (instance, store) = (context.instance, context.store)
        guard route.allows(request.method) else { throw GuestError.methodNotAllowed(request.method) }
        guard instance.apiEnabled || route.allowedWhenDisabled(request.method) else { throw GuestError.forbidden }
        switch route {
        case .root:
            return .now(.json(Array(#"["/1.0"]"#.utf8)))
        case .info where request.method == .PATCH:
            let ready = try Self.requestedState(request.body)
            guard writes.allow(instance.id) else { throw GuestError.tooManyRequests }
            // Already so: nothing to write (and nothing to journal).
            if ready == instance.ready { return .now(.empty) }
            let written = context.stores.write(on: context.loop) { try $0.setReady(instanceID: instance.id, ready) }
            return .later(
                written.map { [held] in
                    held.changed(instanceID: instance.id, resource: .info)
                    return .empty
                })
        case .info:
            var json = JSONWriter()
            json.raw("{\"state\":")
            json.string(instance.ready ? "Ready" : "Started")
            json.raw(",\"api_version\":\"1.0\",\"instance_type\":")
            json.string(instance.type.rawValue)
            json.raw(",\"location\":")
            json.string(location)
            json.raw("}")
            return .now(GuestResponse.json(json.bytes).tagged)
        case .config where try Self.watchQuery(request, route: route).recursive:
            let entries = try store.guestConfig(
                instanceID: instance.id, wholeUpTo: RecursiveConfig.wholeUpTo, budget: RecursiveConfig.budget)
            return .now(GuestResponse.json(RecursiveConfig.json(entries)).tagged)
        case .config:
            var json = JSONWriter()
            json.array(try store.guestConfigKeys(instanceID: instance.id).map { "/1.0/config/" + Self.pathSegment($0) })
            return .now(GuestResponse.json(json.bytes).tagged)
        case .configKey(let key):
            guard key.hasPrefix("user.") || key.hasPrefix("cloud-init.") else { throw GuestError.forbidden }
            // A key no instance can have (a NUL, a byte outside printable ASCII) is not looked up:
            // the database would read `user.a%00b` as `user.a`.
            guard (try? Validation.checkKey(key)) != nil else { throw GuestError.notFound }
            guard let (value, digest) = try store.guestValue(instanceID: instance.id, key: key, wholeUpTo: GuestResponse.wholeValueLimit)
            else {
                throw GuestError.notFound
            }
            return .now(try Self.valueResponse(value, range: request.range).tagged(digest))
        case .devices:
            let devices = try store.guestDevices(instanceID: instance.id)
            var json = JSONWriter()
            json.raw("{")
            for (i, name) in devices.keys.sorted().enumerated() {
                if i > 0 { json.raw(",") }
                json.string(name)
                json.raw(":")
                json.object(devices[name]!)
            }
            json.raw("}")
            return .now(GuestResponse.json(json.bytes).tagged)
        case .metaData:
            let (head, rest, digest) = try store.metaData(
                instanceID: instance.id, name: instance.name, wholeUpTo: GuestResponse.wholeValueLimit)
            guard case .stored(let value)? = rest else { return .now(GuestResponse.raw(head).tagged(digest)) }
            let body = GuestResponse.ValueBody(prefix: head, value: value, length: value.size)
            return .now(GuestResponse(status: .ok, contentType: .raw, body: .value(body)).tagged(digest))
        case .events:
            return .now(try EventSubscription.response(for: request, instance: instance, store: store))
        case .imageExport(let fingerprint):
            guard instance.imagesEnabled else { throw GuestError.forbidden }
            guard ImageExport.isFingerprint(fingerprint), let (image, path) = try store.publicImage(fingerprint: fingerprint) else {
                throw GuestError.imageNotFound(fingerprint)
            }
            return .now(try ImageExport.response(image: image, path: path, range: request.range))
        case .identity:
            return .now(try identity.response(to: request, instance: instance, store: store))
        }
    }

    /// The watch parameters of a request (README, "Watching for changes"); a value they cannot
    /// have is a 400.
    static func watchQuery(_ request: GuestRequest, route: Route) throws -> WatchQuery {
        do {
            return try WatchQuery(target: request.target, listing: route == .config)
        } catch {
            throw GuestError.badRequest(error.message)
        }
    }

    /// What a GET or HEAD of a watchable endpoint waits for, if it asks to wait.
    static func wait(_ route: Route, _ request: GuestRequest) throws -> WatchQuery.Wait? {
        guard HeldRequests.Resource(route) != nil, request.method == .GET || request.method == .HEAD else { return nil }
        return try watchQuery(request, route: route).wait
    }

    /// A config value, whole or the byte range asked for (a guest's `Range`, as for images).
    static func valueResponse(_ value: GuestValue, range: String?) throws -> GuestResponse {
        var first = 0
        var last = value.size - 1
        var response = GuestResponse.raw([])
        if let range {
            switch ByteRange(range, size: value.size) {
            case .whole: break
            case .unsatisfiable: throw GuestError.rangeNotSatisfiable(size: value.size)
            case .part(let start, let end):
                (first, last) = (start, end)
                response.status = .partialContent
                response.fields.append(("Content-Range", "bytes \(start)-\(end)/\(value.size)"))
            }
        }
        switch value {
        case .bytes(let bytes): response.body = .bytes(first == 0 && last == bytes.count - 1 ? bytes : Array(bytes[first...last]))
        case .stored(let stored): response.body = .value(.init(value: stored, offset: first, length: last - first + 1))
        }
        return response
    }

    /// A key as a path segment that fetches it: `%`, `?` and `#` escaped (a key may hold them,
    /// and the path is percent-decoded), every other key as it is, as Incus lists them.
    static func pathSegment(_ key: String) -> String {
        guard key.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) else {
            return key
        }
        var escaped = ""
        for character in key.unicodeScalars {
            switch character {
            case "%": escaped += "%25"
            case "?": escaped += "%3F"
            case "#": escaped += "%23"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// `{"state":"Ready"|"Started"}`, exactly; true for Ready. (Other members are ignored, and
    /// of a `state` given twice the last counts, as Go's decoder has it.)
    static func requestedState(_ body: ByteBuffer?) throws -> Bool {
        let bytes = body.map { Array($0.readableBytesView) } ?? []
        guard let document = try? JSONText(parsing: bytes), case .object(let members) = document else {
            throw GuestError.badRequest("Invalid request body")
        }
        let state: String?
        switch members.last(where: { $0.key == "state" })?.value {
        case nil, .null?: state = nil
        case .string(let text)?: state = text
        default: throw GuestError.badRequest("Invalid request body")
        }
        switch state {
        case "Ready": return true
        case "Started": return false
        default: throw GuestError.badRequest("Invalid state \"\(state ?? "")\"")
        }
    }
}
