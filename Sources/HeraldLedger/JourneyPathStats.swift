import HeraldCore

/// A journey's counts for `herald stats JOURNEY` (docs/journeys.md, "Statistics"): each step's reached and
/// outcomes, and each path's instances and conversions. A path is the steps an instance went through, in
/// order, and how it ended (its final status, or the step it is at); a user converted when the conversion
/// event happened from the moment they entered to `within` after it, both ends included — the same
/// reference for every path, so a control path that sends nothing compares fairly.
public struct JourneyPathStats: Sendable, Hashable {
    /// One step's counts.
    public struct Step: Sendable, Hashable {
        /// The step id.
        public var step: String
        /// Instances that reached it: those that finished it and those at it now.
        public var reached: Int
        /// Active instances at it now.
        public var current: Int
        /// How it ended, by outcome text (`sent`, `skipped:<reason>`, `branch:2`, `exited:purchase`, …).
        public var outcomes: [String: Int]
    }

    /// One path's counts.
    public struct Path: Sendable, Hashable {
        /// The steps it went through, in order.
        public var steps: [String]
        /// How it ended: a final status (`completed`, `exited:purchase`), or `at <step>` while active.
        public var end: String
        /// Instances that took it.
        public var instances: Int
        /// Of those, how many converted; nil without a conversion goal.
        public var converted: Int?

        /// The path as text: `a → b → completed`.
        public var text: String { (steps + [end]).joined(separator: " → ") }
    }

    /// Instances by status text.
    public var statuses: [String: Int] = [:]
    /// Steps in file order.
    public var steps: [Step] = []
    /// Paths, most taken first.
    public var paths: [Path] = []

    /// The counts of `journey` from its instances and step records; `conversions` holds each user's conversion
    /// event times (epoch seconds), read for `journey.conversion`.
    public init(
        journey: JourneyDefinition, instances: [JourneyInstance], records: [JourneyStepRecord],
        conversions: [String: [Int64]]
    ) {
        var byInstance: [String: [JourneyStepRecord]] = [:]
        var outcomes: [String: [String: Int]] = [:]
        for r in records {
            byInstance[r.user + "\u{1F}" + r.instance, default: []].append(r)
            outcomes[r.step, default: [:]][r.outcome, default: 0] += 1
        }
        var current: [String: Int] = [:]
        var paths: [String: Path] = [:]
        for i in instances {
            statuses[i.status.rawValue, default: 0] += 1
            if i.status == .active { current[i.step, default: 0] += 1 }
            // An instance that ended early has a record at the step it was at: that step is on its path.
            let taken = (byInstance[i.user + "\u{1F}" + i.id] ?? []).map(\.step)
            let end = i.status == .active ? "at \(i.step)" : i.status.rawValue
            let key = (taken + [end]).joined(separator: "\u{1F}")
            var path =
                paths[key] ?? Path(steps: taken, end: end, instances: 0, converted: journey.conversion == nil ? nil : 0)
            path.instances += 1
            if let goal = journey.conversion,
                (conversions[i.user] ?? []).contains(where: { $0 >= i.enteredAt && $0 <= i.enteredAt + goal.within })
            {
                path.converted = (path.converted ?? 0) + 1
            }
            paths[key] = path
        }
        steps = journey.steps.map { s in
            let o = outcomes[s.id] ?? [:]
            return Step(
                step: s.id, reached: o.values.reduce(0, +) + (current[s.id] ?? 0), current: current[s.id] ?? 0,
                outcomes: o)
        }
        self.paths = paths.values.sorted { ($0.instances, $1.text) > ($1.instances, $0.text) }
    }
}
