import Foundation
import GuestHTTP
import GuestIdentity
import GuestJSON
import GuestStore
import GuestVersion
import NIOCore
import NIOHTTP1
import NIOPosix

/// The operator's socket (`STATE/admin.sock`, 0600: root only), never the guests': `GET
/// /healthz` (200, or 503 with the reason), `GET /metrics` (Prometheus text) and `GET /status`
/// (what `guestapi-admin status` prints, as JSON).
final class AdminServer: Sendable {
    private let channel: Channel

    /// What the answers are made of.
    struct Sources: Sendable {
        let services: Services
        let loops: [EventLoop]
        let epoch: DatabaseEpoch
        let tailer: JournalTailer
        let socket: String
        let database: String
        let stateDirectory: String
    }

    init(path: String, group: EventLoopGroup, sources: Sources) throws {
        try StateLock.clearStaleSocket(path)
        let socket = try ListeningSocket(path: path, backlog: 64, mode: 0o600)
        channel = try ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(sources: sources))
                }
            }
            .withBoundSocket(socket.descriptor)
            .wait()
    }

    func close(removing path: String) {
        try? channel.close().wait()
        unlink(path)
    }
}

/// Answers one admin request at a time.
private final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let sources: AdminServer.Sources
    private var head: HTTPRequestHead?

    init(sources: AdminServer.Sources) { self.sources = sources }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let channel = context.channel
            answer(head, on: context.eventLoop).whenSuccess { status, type, body in
                var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", String(body.utf8.count))])
                if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
                channel.write(
                    HTTPServerResponsePart.head(HTTPResponseHead(version: head.version, status: status, headers: headers)), promise: nil)
                channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
                channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in
                    if !head.isKeepAlive { channel.close(promise: nil) }
                }
            }
        }
    }

    private func answer(_ head: HTTPRequestHead, on loop: EventLoop) -> EventLoopFuture<(HTTPResponseStatus, String, String)> {
        guard head.method == .GET else { return loop.makeSucceededFuture((.methodNotAllowed, "text/plain", "GET only\n")) }
        switch head.uri {
        case "/healthz":
            let problem = health()
            return loop.makeSucceededFuture(problem.map { (.serviceUnavailable, "text/plain", $0 + "\n") } ?? (.ok, "text/plain", "ok\n"))
        case "/metrics":
            let services = sources.services
            return services.metrics.total(loops: sources.loops, on: loop).map { [sources] counters in
                (.ok, "text/plain; version=0.0.4", services.metrics.render(counters, sources.gauges(on: loop)))
            }
        case "/status":
            return loop.makeSucceededFuture((.ok, "application/json", status(on: loop)))
        case "/jwks":
            // The identity tokens' public keys (made with the first, if none was yet).
            let keys = SigningKeys(stateDirectory: sources.stateDirectory)
            do {
                _ = try keys.signingKey()
                return loop.makeSucceededFuture((.ok, "application/jwk-set+json", String(decoding: try keys.jwks(), as: UTF8.self) + "\n"))
            } catch {
                return loop.makeSucceededFuture((.internalServerError, "text/plain", "\(error)\n"))
            }
        default:
            return loop.makeSucceededFuture((.notFound, "text/plain", "not found: /healthz, /metrics, /status, /jwks\n"))
        }
    }

    /// Why the daemon is not healthy; nil when it serves and its database is good.
    private func health() -> String? {
        if let fault = sources.epoch.state.fault { return "\(fault)" }
        if let schema = sources.tailer.progress.withLockedValue({ $0.newerSchema }) {
            return "the database was migrated to schema \(schema) by a newer guestapi: restart guestapid"
        }
        if sources.tailer.progress.withLockedValue({ $0.failing }) { return "the journal cannot be read: events are not delivered" }
        return nil
    }

    private func status(on loop: EventLoop) -> String {
        let gauges = sources.gauges(on: loop)
        var json = JSONWriter()
        json.raw("{\"version\":")
        json.string(BuildInfo.version)
        json.raw(",\"commit\":")
        json.string(BuildInfo.commit)
        json.raw(",\"pid\":")
        json.int(Int(getpid()))
        json.raw(",\"socket\":")
        json.string(sources.socket)
        json.raw(",\"database\":")
        json.string(sources.database)
        json.raw(",\"uptime_seconds\":")
        json.int(Int(Date().timeIntervalSince1970 - sources.services.metrics.startedAt))
        json.raw(",\"instances\":")
        json.int(gauges.instances)
        json.raw(",\"connections\":")
        json.int(gauges.connections)
        json.raw(",\"healthy\":")
        json.raw(health() == nil ? "true" : "false")
        if let problem = health() {
            json.raw(",\"problem\":")
            json.string(problem)
        }
        json.raw("}\n")
        return String(decoding: json.bytes, as: UTF8.self)
    }
}

extension AdminServer.Sources {
    /// What the metrics and `/status` say the daemon holds now.
    func gauges(on loop: EventLoop) -> Metrics.Gauges {
        let store = services.stores.reader(on: loop)
        return Metrics.Gauges(
            connections: services.connections.count, subscribers: services.events.count, held: services.held.count,
            instances: (try? store.instanceCount()) ?? 0, journalHead: (try? store.lastJournalID()) ?? 0,
            journalPublished: tailer.progress.withLockedValue { $0.published },
            hooksRefused: tailer.progress.withLockedValue { $0.hooksRefused })
    }
}
