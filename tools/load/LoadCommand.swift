import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

extension Mode: ExpressibleByArgument {}

struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guestapi-load",
        abstract: "HTTP/1.1 load generator for a server on a Unix socket.",
        discussion: """
            Runs --connections clients, each with one request in flight at a time, for \
            --warmup then --duration seconds, and stops by itself. Non-2xx responses and \
            requests that got no complete response count as errors. In churn mode the \
            latency of a request includes its connect.
            """
    )

    @Option(help: "Unix socket the server listens on.")
    var socket: String

    @Option(help: "Request path.")
    var path = "/"

    @Option(help: "Concurrent clients (connections).")
    var connections = 64

    @Option(help: "Measured seconds.")
    var duration = 10.0

    @Option(help: "Unmeasured seconds before the measured window.")
    var warmup = 0.0

    @Option(help: "Event loop threads.")
    var threads = System.coreCount

    @Option(help: "keepalive: one connection per client, reused. churn: a new connection per request, Connection: close.")
    var mode = Mode.keepalive

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    func validate() throws {
        guard connections > 0 else { throw ValidationError("--connections must be positive") }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        guard duration > 0, duration <= 24 * 3600 else { throw ValidationError("--duration must be in (0, 86400]") }
        guard warmup >= 0, warmup <= 3600 else { throw ValidationError("--warmup must be in [0, 3600]") }
        guard path.hasPrefix("/"), !path.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" }) else {
            throw ValidationError("--path must start with / and contain no spaces or line breaks")
        }
    }

    func run() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        defer { try? group.syncShutdownGracefully() }

        try checkReachable(group: group)

        let start = NIODeadline.now()
        let measureFrom = start + .nanoseconds(Int64(warmup * 1e9))
        let plan = LoadPlan(
            socketPath: socket,
            path: path,
            mode: mode,
            measureFrom: measureFrom,
            stopAt: measureFrom + .nanoseconds(Int64(duration * 1e9))
        )

        var results: [EventLoopFuture<RunStats>] = []
        for _ in 0..<connections {
            let loop = group.next()
            let done = loop.makePromise(of: RunStats.self)
            loop.execute {
                Worker(plan: plan, loop: loop, done: done).start()
            }
            results.append(done.futureResult)
        }
        let total = try EventLoopFuture.reduce(into: RunStats(), results, on: group.next()) { total, stats in
            total.merge(stats)
        }.wait()

        let report = Report(stats: total, mode: mode, connections: connections, duration: duration)
        print(json ? report.json : report.text)
        if json, let example = total.firstTransportError {
            // stdout stays one JSON object; the example goes where people look.
            printError("guestapi-load: \(total.transportErrors) transport errors, first: \(example)")
        }
    }

    /// Fails with a clear message up front instead of running a whole window of connect errors.
    private func checkReachable(group: EventLoopGroup) throws {
        do {
            let channel = try ClientBootstrap(group: group)
                .connectTimeout(.seconds(5))
                .connect(unixDomainSocketPath: socket)
                .wait()
            try channel.close().wait()
        } catch {
            throw LoadError("cannot connect to \(socket): \(error)")
        }
    }

    private func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}

/// A failure to report as one line, without ArgumentParser's usage text (which is for bad options).
struct LoadError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
