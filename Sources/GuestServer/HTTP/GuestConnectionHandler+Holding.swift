import GuestHTTP
import GuestRoutes
import NIOCore

/// Requests held until their answer changes (`wait_for_change`, README, "Watching for
/// changes"): the answer is read as for any request; if its tag is the one the caller has, the
/// request waits in `HeldRequests` until a committed change alters it, its time is up, the
/// instance ends or the daemon stops, and then gets the answer as it is at that moment.
extension GuestConnectionHandler {
    /// The request held, and the tag of the answer its caller has.
    struct Held {
        let request: GuestRequest
        let route: Route
        let instanceID: Int
        let tag: String
    }

    /// Answers `request` now if its answer is not the one the caller has, else holds it.
    func hold(_ request: GuestRequest, route: Route, wait: WatchQuery.Wait, context: ChannelHandlerContext) {
        let (response, tag, _) = watchedAnswer(request, route: route, context: context)
        guard let tag, wait.lastTag == nil || wait.lastTag == tag, let resource = HeldRequests.Resource(route),
            let instanceID = connection.match?.instanceID
        else {
            return respond(response, to: request, context: context)
        }
        held = Held(request: request, route: route, instanceID: instanceID, tag: tag)
        machine.holdStarted(until: .now() + .seconds(Int64(wait.timeout)))
        services.held.add(context.channel, instanceID: instanceID, resource: resource)
        armTimer(context: context)
        // A change committed after this tick's snapshot began, and published before the hold
        // was added, woke nobody: the next tick reads in a snapshot of its own.
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = bound.value
            handler.recheckHeld(force: false, context: context)
        }
    }

    /// Reads the held request's answer again and answers it if its tag moved, or if `force`.
    /// An answer kept for the revision goes out as the bytes kept for its form: the holds it
    /// answers share one copy, however many never read it.
    func recheckHeld(force: Bool, context: ChannelHandlerContext) {
        guard let held, context.channel.isActive else { return }
        counters.heldAnswersRead += 1
        let (response, tag, kept) = watchedAnswer(held.request, route: held.route, context: context)
        guard force || tag != held.tag else { return }
        releaseHold(context: context)
        machine.holdEnded()
        if let kept { respond(kept, to: held.request, context: context) } else { respond(response, to: held.request, context: context) }
        resume(context: context)
    }

    /// Takes the held request out of `HeldRequests` (answered, or its connection closed).
    func releaseHold(context: ChannelHandlerContext) {
        guard let held else { return }
        services.held.remove(context.channel, instanceID: held.instanceID)
        self.held = nil
    }

    /// The answer as it is now, and the tag a hold compares: a 200's (or 206's) `ETag`; for a key that is
    /// not set, the empty tag (its caller waits for it to be set); nil for any other answer,
    /// which is never held. The answer is the plain GET's of the same resource, kept for the
    /// revision (`AnswerCache`): a change that wakes many held requests of an instance costs
    /// one reading of their answer per loop, not one each. With it, the answer as kept, when it
    /// is sent as it is (not a 304).
    private func watchedAnswer(
        _ request: GuestRequest, route: Route, context: ChannelHandlerContext
    ) -> (GuestResponse, String?, AnswerCache.Kept?) {
        do {
            let store = local.reader()
            let instance = try connection.instance(host: services.host, store: store)
            let recursive = try GuestAPI.watchQuery(request, route: route).recursive
            var plain = GuestRequest(method: .GET, target: request.path + (recursive ? "?recursive=true" : ""), minorVersion: 1)
            // Only a value answers a range; elsewhere it would only keep the answer from being shared.
            if route.isConfigKey { plain.range = request.range }
            var response: GuestResponse
            var kept = store.inSnapshot ? local.answers.answer(to: plain, instanceID: instance.id, revision: store.revision) : nil
            if let kept {
                response = kept.response
            } else {
                let current = RequestContext(instance: instance, store: store, stores: services.stores, loop: context.eventLoop)
                guard case .now(let computed) = try services.api.answer(route, plain, current) else {
                    preconditionFailure("a watched GET answers at once")
                }
                response = computed
                if store.inSnapshot {
                    kept = local.answers.keep(response, route: route, for: plain, instanceID: instance.id, revision: store.revision)
                }
            }
            let tag = response.status == .ok || response.status == .partialContent ? response.etag : nil
            if let unchanged = response.notModified(request) { return (unchanged, tag, nil) }
            return (response, tag, kept)
        } catch GuestError.notFound where route.isConfigKey {
            return (GuestError.notFound.response, "", nil)
        } catch {
            return (response(for: .failure(error), on: context.eventLoop), nil, nil)
        }
    }
}

extension Route {
    fileprivate var isConfigKey: Bool {
        if case .configKey = self { return true }
        return false
    }
}
