// The pure rules the daemon applies to a journey instance (docs/journeys.md, "How an instance moves"):
// where each outcome leads, which branch arm and split path a user takes, and when waits end.

/// How a step ended, as the daemon observed it.
public enum JourneyStepOutcome: Sendable, Hashable {
    /// A message step is done (sent, or any final status, or skipped), or a wait ended.
    case done
    /// A wait_for saw its event.
    case event
    /// A wait_for timed out.
    case timeout
    /// A branch chose the `if` arm at this index, or `else` (nil).
    case branch(arm: Int?)
    /// A split chose the arm at this index.
    case split(arm: Int)
}

extension JourneyStep {
    /// Where `outcome` leads from this step; nil when the outcome does not belong to this kind of step or names
    /// an arm the step does not have.
    public func next(after outcome: JourneyStepOutcome) -> JourneyTarget? {
        switch (kind, outcome) {
        case (.message(let m), .done): return m.next
        case (.wait(let w), .done): return w.next
        case (.waitFor(let w), .event): return w.onEvent
        case (.waitFor(let w), .timeout): return w.onTimeout
        case (.branch(let b), .branch(let arm)): return b.target(arm: arm)
        case (.split(let s), .split(let arm)): return s.arms.indices.contains(arm) ? s.arms[arm].goto : nil
        default: return nil
        }
    }
}

extension JourneyDefinition {
    /// Where `outcome` leads from the step `stepID`; nil for an unknown step or an outcome that does not fit it.
    public func next(from stepID: String, outcome: JourneyStepOutcome) -> JourneyTarget? {
        step(stepID)?.next(after: outcome)
    }
}

extension JourneyDefinition.ReEntry {
    /// Whether a user may enter now: never while in an instance; with `never` only if they never entered;
    /// with `after: D` once D has passed since their latest instance started (`lastEnteredAt`, epoch seconds).
    public func allowsEntry(inInstance: Bool, lastEnteredAt: Int64?, now: Int64) -> Bool {
        if inInstance { return false }
        guard let last = lastEnteredAt else { return true }
        switch self {
        case .never: return false
        case .always: return true
        case .after(let d): return now - last >= d
        }
    }
}

extension JourneyBranch {
    /// The index of the first `if` arm whose condition holds for the user, or nil for `else`. Set
    /// `env.journey` to the instance's message facts so sent(), opened() and clicked() can be answered.
    public func choose(_ facts: UserFacts, _ env: EvaluationEnvironment, population: PopulationStats) -> Int?
    {
        arms.firstIndex { $0.condition.matches(facts, env, population: population) }
    }

    /// Where arm `arm` leads (nil: else); an index past the arms means else.
    public func target(arm: Int?) -> JourneyTarget {
        guard let arm, arms.indices.contains(arm) else { return otherwise }
        return arms[arm].goto
    }
}

extension JourneySplit {
    /// A number in [0, 100) from journey id, user id and step id: the same inputs give the same path on every
    /// daemon and run, and one user's paths in different split steps are independent.
    public static func point(journey: String, user: String, step: String) -> Double {
        AssignmentHash.unit("journey-split", journey, user, step) * 100
    }

    /// The arm `user` takes at step `step` of journey `journey`: arm k covers the points from the sum of the
    /// earlier percentages up to that sum plus its own.
    public func arm(journey: String, user: String, step: String) -> Int {
        let p = Self.point(journey: journey, user: user, step: step)
        var upper = 0.0
        for (i, a) in arms.enumerated() {
            upper += a.percent
            if p < upper { return i }
        }
        return arms.count - 1
    }
}

extension JourneyWait {
    /// When the wait ends for a user who reached it at `reachedAt` (epoch seconds), on the user's clock.
    public func due(reachedAt: Int64, clock: LocalClock) -> Int64 {
        switch length {
        case .duration(let d): return reachedAt + d
        case .until(let time, let days):
            return Self.nextLocal(time, days: days, after: reachedAt, clock: clock)
        }
    }

    /// The first instant strictly after `t` whose local time on `clock` is `time` on one of `days`. A local time
    /// that a DST change skips moves forward by the gap (02:30 → 03:30); one that occurs twice means the first.
    public static func nextLocal(_ time: ClockTime, days: Set<Weekday>, after t: Int64, clock: LocalClock)
        -> Int64
    {
        let today = clock.local(t).date.daysSinceEpoch
        // Eight dates always hold an allowed weekday after `t`, even when today's time has passed.
        for k in Int64(0)...8 {
            let date = CivilDate(daysSinceEpoch: today + k)
            guard let day = Weekday(rawValue: date.weekday), days.contains(day) else { continue }
            let instant = clock.instant(date, time)
            if instant > t { return instant }
        }
        // Only reached with an empty `days`, which the parser never produces.
        return clock.instant(CivilDate(daysSinceEpoch: today + 8), time)
    }
}

extension JourneyWaitFor {
    /// When the wait times out for a user who reached it at `reachedAt`.
    public func timeout(reachedAt: Int64) -> Int64 { reachedAt + within }

    /// True when an event named `name` at `timestamp` (epoch seconds) with these properties ends the wait of a
    /// user who reached the step at `reachedAt`: the name matches, the timestamp is at or after `reachedAt`, and
    /// `where` holds. Whether it was stored before the timeout is the caller's check.
    public func accepts(name: String, timestamp: Int64, properties: [String: Value], reachedAt: Int64) -> Bool
    {
        name == event && timestamp >= reachedAt && (filter?.matches(properties) ?? true)
    }

    /// `accepts` with the event's properties as stored (a JSON object, or nil).
    public func accepts(name: String, timestamp: Int64, propertiesJSON: String?, reachedAt: Int64) -> Bool {
        name == event && timestamp >= reachedAt && (filter?.matches(propertiesJSON: propertiesJSON) ?? true)
    }
}
