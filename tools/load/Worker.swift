import NIOCore
import NIOPosix

/// One simulated client. It owns one connection at a time, reconnects when
/// that connection ends before the run does (every request in churn mode,
/// only after a server-side close in keep-alive mode), and keeps its own
/// statistics. All of its state is touched only on its event loop, so it
/// needs no locks.
final class Worker {
    let plan: LoadPlan
    private let loop: EventLoop
    private let bootstrap: ClientBootstrap
    private let done: EventLoopPromise<RunStats>
    private var stats = RunStats()
    private var channel: Channel?
    private(set) var isFinished = false

    var reusesConnections: Bool { plan.mode == .keepalive }

    /// Must be created on `loop`; `done` is fulfilled with the statistics at `plan.stopAt`.
    init(plan: LoadPlan, loop: EventLoop, done: EventLoopPromise<RunStats>) {
        self.plan = plan
        self.loop = loop
        self.done = done
        // Bound to this loop so connections, callbacks and stats all stay on one thread.
        self.bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
    }

    func start() {
        loop.assumeIsolated().scheduleTask(deadline: plan.stopAt) {
            self.finish()
        }
        connect()
    }

    func recordResponse(status: Int, startedAt: NIODeadline) {
        let now = NIODeadline.now()
        guard !isFinished, startedAt >= plan.measureFrom else { return }
        stats.recordResponse(status: status, nanoseconds: UInt64((now - startedAt).nanoseconds))
    }

    func recordTransportError(_ reason: String) {
        guard !isFinished, NIODeadline.now() >= plan.measureFrom else { return }
        stats.recordTransportError(reason)
    }

    private func connect() {
        guard !isFinished else { return }
        let startedAt = NIODeadline.now()
        bootstrap.connect(unixDomainSocketPath: plan.socketPath)
            .hop(to: loop)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.attach(to: channel, connectStartedAt: startedAt)
                case .failure(let error):
                    self.recordTransportError("connect: \(error)")
                    // Pause, so that a dead server yields a trickle of counted errors, not a busy loop.
                    self.loop.assumeIsolated().scheduleTask(in: .milliseconds(10)) {
                        self.connect()
                    }
                }
            }
    }

    private func attach(to channel: Channel, connectStartedAt: NIODeadline) {
        guard !isFinished else {
            channel.close(promise: nil)
            return
        }
        self.channel = channel
        channel.closeFuture.assumeIsolated().whenComplete { _ in
            self.channel = nil
            self.connect()
        }
        // A curl-like client waits for the connect too, so churn latency includes it.
        let firstRequestStartedAt = plan.mode == .churn ? connectStartedAt : .now()
        do {
            let handler = ConnectionHandler(worker: self, firstRequestStartedAt: firstRequestStartedAt)
            try channel.pipeline.syncOperations.addHandler(handler)
        } catch {
            // The server hung up before we could even send.
            recordTransportError("connection closed before the request was sent")
            channel.close(promise: nil)
        }
    }

    private func finish() {
        guard !isFinished else { return }
        isFinished = true
        // In-flight requests are abandoned, not counted: the window is over.
        channel?.close(promise: nil)
        done.succeed(stats)
    }
}
