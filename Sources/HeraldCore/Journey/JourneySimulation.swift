/// `herald dry-run JOURNEY [--simulate D]` (docs/journeys.md, "Dry runs"): every user of the audience enters
/// at `start` and moves through the steps as the daemon would move them if nothing more happened — no further
/// events, so every `wait_for` times out and nothing is opened or clicked. Message steps are decided by the
/// one decision pipeline at the moment they are reached; waits end on each user's clock; branches and splits
/// choose as they do live. Nothing is written.
public struct JourneySimulation: Sendable {
    /// What happened at one step.
    public struct StepCounts: Sendable, Hashable {
        /// Users who reached the step on each day of the simulation (index 0: the first 24 hours).
        public var reachedByDay: [Int]
        /// How the step ended for them: `sent`, `skipped:<reason>`, `waited`, `timeout`, `branch:<n>`, `else`,
        /// `split:<n>`, `exited:segment`; users still at the step when the simulation ends are not counted.
        public var outcomes: [String: Int] = [:]

        /// Counts of a step no one reached yet, over `days` days.
        public init(reachedByDay: [Int], outcomes: [String: Int] = [:]) {
            self.reachedByDay = reachedByDay
            self.outcomes = outcomes
        }

        /// Users who reached the step.
        public var reached: Int { reachedByDay.reduce(0, +) }
    }

    /// The journey id.
    public let journey: String
    /// When the audience enters, epoch seconds.
    public let start: Int64
    /// How many days are counted (at least 1).
    public let days: Int
    /// Users who entered: the audience at `start`.
    public internal(set) var entered = 0
    /// Counts by step id.
    public internal(set) var steps: [String: StepCounts] = [:]
    /// Instances that ended inside the simulated time, by final status (`completed`, `exited:segment`).
    public internal(set) var ended: [String: Int] = [:]
    /// Users still in the journey at the end, by the step they are at (a wait, or a message not yet sent).
    public internal(set) var waiting: [String: Int] = [:]
    /// The decisions of message steps reached, with their step, when `keepDecisions` was asked for.
    public internal(set) var decisions: [(step: String, decision: Decision)] = []

    /// Simulates `journey` for `horizon` seconds from `start` over `inputs` (a snapshot loaded with the
    /// journey's requirements and its message steps'); a horizon of 0 shows where each user stands at entry.
    public static func run(
        _ journey: JourneyDefinition, inputs: PlanningInputs, start: Int64, horizon: Int64,
        keepDecisions: Bool = false
    ) -> JourneySimulation {
        let days = max(1, Int((horizon + 86_399) / 86_400))
        var sim = JourneySimulation(journey: journey.id, start: start, days: days)
        for step in journey.steps { sim.steps[step.id] = StepCounts(reachedByDay: Array(repeating: 0, count: days)) }
        var env = inputs.environment
        env.now = start
        let mask = journey.audienceMask(inputs.snapshot, env, population: inputs.population)
        let rows = mask.indices.filter { mask[$0] }
        sim.entered = rows.count
        var walk = Walk(journey: journey, inputs: inputs, end: start + horizon, keepDecisions: keepDecisions)
        walk.arrive(rows, at: start, target: journey.entryTarget)
        while let key = walk.pending.keys.min(by: { ($0.time, $0.index) < ($1.time, $1.index) }) {
            let cohort = walk.pending.removeValue(forKey: key) ?? []
            guard key.time <= walk.end else {
                sim.waiting[journey.steps[key.index].id, default: 0] += cohort.count
                continue
            }
            walk.run(journey.steps[key.index], cohort, at: key.time, into: &sim)
        }
        sim.ended = walk.ended
        sim.decisions = walk.decisionsKept.map { (step: $0.0, decision: $0.1) }
        return sim
    }

    init(journey: String, start: Int64, days: Int) {
        self.journey = journey
        self.start = start
        self.days = days
    }
}

/// The users on their way: cohorts that reach a step at the same moment.
private struct Walk {
    struct Key: Hashable {
        var time: Int64
        var index: Int
    }

    let journey: JourneyDefinition
    let inputs: PlanningInputs
    let end: Int64
    let keepDecisions: Bool
    var pending: [Key: [Int]] = [:]
    var ended: [String: Int] = [:]
    /// Message steps sent to each row, for `sent()` in branches.
    var sent: [Int: Set<String>] = [:]

    init(journey: JourneyDefinition, inputs: PlanningInputs, end: Int64, keepDecisions: Bool) {
        self.journey = journey
        self.inputs = inputs
        self.end = end
        self.keepDecisions = keepDecisions
    }

    /// `rows` go to `target` at `time`.
    mutating func arrive(_ rows: [Int], at time: Int64, target: JourneyTarget) {
        guard !rows.isEmpty else { return }
        switch target {
        case .exit: ended["completed", default: 0] += rows.count
        case .step(let id):
            guard let index = journey.index(of: id) else { return }
            pending[Key(time: time, index: index), default: []].append(contentsOf: rows)
        }
    }

    func environment(_ t: Int64) -> EvaluationEnvironment {
        var env = inputs.environment
        env.now = t
        return env
    }

    /// One cohort at one step: counted, tested against the exit segments, then the step's outcome per row.
    mutating func run(_ step: JourneyStep, _ cohort: [Int], at t: Int64, into sim: inout JourneySimulation) {
        let day = min(sim.days - 1, Int((t - sim.start) / 86_400))
        sim.steps[step.id]?.reachedByDay[day] += cohort.count
        func outcome(_ text: String, _ n: Int = 1) { sim.steps[step.id]?.outcomes[text, default: 0] += n }
        var rows = cohort
        let exits = journey.exitSegments
        if !exits.isEmpty {
            let env = environment(t)
            let s = inputs.snapshot
            let population = inputs.population
            let leaving = Set(rows.filter { r in exits.contains { $0.matches(s.facts(row: r), env, population: population) } })
            if !leaving.isEmpty {
                outcome(JourneyInstanceStatusText.exitedSegment, leaving.count)
                ended[JourneyInstanceStatusText.exitedSegment, default: 0] += leaving.count
                rows = rows.filter { !leaving.contains($0) }
            }
        }
        switch step.kind {
        case .message(let m):
            message(step, m, rows, at: t, outcome: outcome)
        case .wait(let w):
            outcome("waited", rows.count)
            var byDue: [Int64: [Int]] = [:]
            for r in rows {
                let tz = inputs.snapshot.timezone[r]
                let zone = tz < 0 ? nil : inputs.snapshot.timezoneNames[Int(tz)]
                let clock = LocalClock.resolve(zone, fallback: inputs.environment.defaultTimeZone).clock
                byDue[w.due(reachedAt: t, clock: clock), default: []].append(r)
            }
            for (due, group) in byDue { arrive(group, at: due, target: w.next) }
        case .waitFor(let w):
            // No further events: the wait times out (counted when it does).
            let timeout = w.timeout(reachedAt: t)
            if timeout <= end { outcome("timeout", rows.count) }
            if timeout > end {
                sim.waiting[step.id, default: 0] += rows.count
            } else {
                arrive(rows, at: timeout, target: w.onTimeout)
            }
        case .branch(let b):
            var env = environment(t)
            var byArm: [Int: [Int]] = [:]
            for r in rows {
                env.journey = JourneyMessageFacts(sent: sent[r] ?? [])
                let arm = b.choose(inputs.snapshot.facts(row: r), env, population: inputs.population)
                byArm[arm ?? -1, default: []].append(r)
            }
            for (arm, group) in byArm {
                outcome(arm < 0 ? "else" : "branch:\(arm + 1)", group.count)
                arrive(group, at: t, target: b.target(arm: arm < 0 ? nil : arm))
            }
        case .split(let s):
            var byArm: [Int: [Int]] = [:]
            for r in rows {
                byArm[s.arm(journey: journey.id, user: inputs.snapshot.ids[r], step: step.id), default: []].append(r)
            }
            for (arm, group) in byArm {
                outcome("split:\(arm + 1)", group.count)
                arrive(group, at: t, target: s.arms[arm].goto)
            }
        }
    }

    /// A message step decided for the cohort at `t` by the decision pipeline: a send moves the user on when
    /// it goes; a skip at once; a cap that defers, at the end of the send window (nothing frees room here).
    mutating func message(
        _ step: JourneyStep, _ m: JourneyMessageStep, _ rows: [Int], at t: Int64, outcome: (String, Int) -> Void
    ) {
        guard !rows.isEmpty, let campaign = journey.messageCampaign(for: step) else { return }
        var stepInputs = inputs
        stepInputs.environment.now = t
        var mask = Array(repeating: false, count: inputs.snapshot.count)
        for r in rows { mask[r] = true }
        let pipeline = DecisionPipeline(
            campaign: campaign, occurrence: Occurrence(start: t, id: "dry-run/\(step.id)"), inputs: stepInputs)
        var byTime: [Int64: [Int]] = [:]
        for d in pipeline.plan(mask: mask, chunks: DecisionPipeline.chunks(rows.count)) {
            if keepDecisions { decisionsKept.append((step.id, d)) }
            if d.outcome == .send, let at = d.sendAt {
                outcome("sent", 1)
                sent[d.row, default: []].insert(step.id)
                byTime[max(t, at), default: []].append(d.row)
            } else {
                outcome("skipped:" + (d.reason ?? d.outcome.rawValue), 1)
                let deferred = if case .cap? = d.skip, m.onCapped == .defer { true } else { false }
                byTime[deferred ? t + m.sendTime.within : t, default: []].append(d.row)
            }
        }
        for (time, group) in byTime { arrive(group, at: time, target: m.next) }
    }

    var decisionsKept: [(String, Decision)] = []
}

/// Final status texts the simulation reports (the store's `JourneyInstanceStatus` lives above the core).
enum JourneyInstanceStatusText {
    static let exitedSegment = "exited:segment"
}
