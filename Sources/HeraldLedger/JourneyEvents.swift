import HeraldCore

/// What stored events do to a running journey instance (docs/journeys.md, "How an instance moves"): an
/// `exit_when` event ends it (`exited:<event>`); a `wait_for` event that happened at or after the step was
/// reached, and was stored before the timeout, takes `on_event`. The daemon applies it to the events of an
/// API call, `herald events import` to the events it imported.
public enum JourneyEvents {
    /// The event names that can move an instance of `journeys`: their `exit_when` and `wait_for` events.
    public static func watched(_ journeys: [JourneyDefinition]) -> Set<String> {
        var names = Set<String>()
        for j in journeys where j.status != .draft {
            names.formUnion(j.exitEvents)
            for step in j.steps { if case .waitFor(let w) = step.kind { names.insert(w.event) } }
        }
        return names
    }

    /// The move `events` (of the instance's user, stored now) make on the active instance `i` of `j` at `now`,
    /// or nil. With `sinceEntry`, an exit event counts only if it happened at or after the instance entered
    /// (imported history from before does not end it).
    public static func move(
        _ i: JourneyInstance, of j: JourneyDefinition, events: [EventRecord], now: Int64, sinceEntry: Bool = false
    ) -> JourneyMove? {
        let exit = events.first { e in
            j.exitEvents.contains(e.name) && (!sinceEntry || secondsOf(millis: e.timestampMillis) >= i.enteredAt)
        }
        if let exit {
            var ended = i
            ended.status = .exitedEvent(exit.name)
            ended.step = "exit"
            ended.dueAt = nil
            let record = JourneyStepRecord(
                journey: i.journey, instance: i.id, user: i.user, step: i.step, at: now,
                outcome: ended.status.rawValue, next: "exit")
            return JourneyMove(instance: ended, expectedMoves: i.moves, records: [record])
        }
        // An event stored at or after the timeout is too late: the runner takes `on_timeout`.
        guard let step = j.step(i.step), case .waitFor(let w) = step.kind, now < w.timeout(reachedAt: i.reachedAt)
        else { return nil }
        let matched = events.contains { e in
            w.accepts(
                name: e.name, timestamp: secondsOf(millis: e.timestampMillis), propertiesJSON: e.propertiesJSON,
                reachedAt: i.reachedAt)
        }
        guard matched else { return nil }
        var next = i
        let record = JourneyStepRecord(
            journey: i.journey, instance: i.id, user: i.user, step: i.step, at: now, outcome: "event",
            next: w.onEvent.description)
        next.go(to: w.onEvent, at: now)
        return JourneyMove(instance: next, expectedMoves: i.moves, records: [record])
    }
}

extension JourneyInstance {
    /// Points the instance at `target`, reached at `now` and due at once (or ended, for `exit`).
    public mutating func go(to target: JourneyTarget, at now: Int64) {
        messageKey = nil
        reachedAt = now
        switch target {
        case .exit:
            step = "exit"
            status = .completed
            dueAt = nil
        case .step(let id):
            step = id
            dueAt = now
        }
    }
}

extension JourneyStore {
    /// The definition `instance` runs on (docs/journeys.md, "Versions"): the loaded journey when its version
    /// is the instance's, else the version kept in the store, parsed again; nil when neither is available
    /// (`error` then says why, for a kept version that no longer loads).
    public func definition(
        of instance: JourneyInstance, loaded: JourneyDefinition?, config: HeraldConfig
    ) async throws -> (journey: JourneyDefinition?, error: String?) {
        if let loaded, loaded.version.hex == instance.version { return (loaded, nil) }
        guard let kept = try await journeyVersion(journey: instance.journey, version: instance.version) else {
            return (nil, nil)
        }
        let (content, diagnostics) = CampaignFile.parseAny(yaml: kept.source, file: kept.file, config: config)
        guard case .journey(let j)? = content else {
            return (nil, diagnostics.first.map(\.description) ?? "not a journey")
        }
        return (j, nil)
    }
}
