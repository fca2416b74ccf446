import NIOCore

/// The connection's deadlines (`ConnectionStateMachine.deadline`): one timer, armed once and
/// moved on when it fires early, so that a keep-alive request costs a clock read, not a timer.
extension GuestConnectionHandler {
    func armTimer(context: ChannelHandlerContext) {
        guard let deadline = machine.deadline, timer == nil || deadline < timerDeadline else { return }
        timer?.cancel()
        timerDeadline = deadline
        // A callback, not a task: no promise and future made for every connection.
        timer = try? context.eventLoop.assumeIsolated().scheduleCallback(
            at: deadline, handler: DeadlineCheck(handler: self, context: context))
    }

    /// Calls back `timerFired` when the timer goes off.
    private struct DeadlineCheck: NIOScheduledCallbackHandler {
        let handler: GuestConnectionHandler
        let context: ChannelHandlerContext

        func handleScheduledCallback(eventLoop: some EventLoop) {
            handler.timer = nil
            handler.timerFired(context: context)
        }

        func didCancelScheduledCallback(eventLoop: some EventLoop) {}
    }

    private func timerFired(context: ChannelHandlerContext) {
        switch machine.timerFired(now: .now()) {
        case .none: break
        case .close: context.close(promise: nil)
        case .rearm: armTimer(context: context)
        case .answerHeld: recheckHeld(force: true, context: context)
        }
    }

    func cancelTimer() {
        timer?.cancel()
        timer = nil
    }
}
