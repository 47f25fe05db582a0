import Foundation

/// Everything a planning pass reads, bulk-loaded up front (no per-user queries).
public struct PlanningInputs: Sendable {
    /// The audience.
    public var snapshot: AudienceSnapshot
    /// Population statistics for RFM.
    public var population: PopulationStats
    /// `now` (the planning instant), lifecycle thresholds and the default zone.
    public var environment: EvaluationEnvironment
    /// Caps, quiet hours, adaptive caps, default zone.
    public var policy: PolicyConfig
    /// Consent by user id; absent users are opted in.
    public var consent: [String: ConsentState]
    /// Suppression lists by address or user id (each value: the list names).
    public var suppressions: [String: [String]]
    /// Past and pending sends by user id, from the ledger.
    public var history: [String: [SendRecord]]

    /// Inputs for one planning pass.
    public init(
        snapshot: AudienceSnapshot, population: PopulationStats, environment: EvaluationEnvironment,
        policy: PolicyConfig, consent: [String: ConsentState] = [:], suppressions: [String: [String]] = [:],
        history: [String: [SendRecord]] = [:]
    ) {
        self.snapshot = snapshot
        self.population = population
        self.environment = environment
        self.policy = policy
        self.consent = consent
        self.suppressions = suppressions
        self.history = history
    }

    /// The planning instant.
    public var now: Int64 { environment.now }
}

/// The one decision pipeline (docs/architecture.md): dry-run, why and the daemon all call it; only the sink differs.
///
/// Checks run in docs/decisions.md order: audience → holdout → consent → contact (with channel fallback) → caps → send time.
public struct DecisionPipeline: Sendable {
    /// The campaign planned.
    public let campaign: Campaign
    /// The occurrence planned.
    public let occurrence: Occurrence
    /// What the pass reads.
    public let inputs: PlanningInputs

    /// A pipeline for one campaign occurrence.
    public init(campaign: Campaign, occurrence: Occurrence, inputs: PlanningInputs) {
        self.campaign = campaign
        self.occurrence = occurrence
        self.inputs = inputs
    }

    /// The audience: one flag per snapshot row (segment and not exclude), evaluated in bulk.
    public func audienceMask() -> [Bool] {
        let s = inputs.snapshot
        let env = audienceEnvironment
        var mask = campaign.audience.segment.evaluate(s, env, population: inputs.population)
        if let ex = campaign.audience.exclude {
            let out = ex.evaluate(s, env, population: inputs.population)
            for i in mask.indices where mask[i] && out[i] { mask[i] = false }
        }
        return mask
    }

    /// One decision per audience user, in snapshot order.
    ///
    /// Large passes run in a fixed number of chunks on all cores; the chunking (not the core count) fixes the
    /// order of floating-point sums, so the result is the same on every machine.
    public func plan() -> [Decision] {
        let mask = audienceMask()
        return plan(mask: mask, chunks: Self.chunks(mask.count))
    }

    /// The decision for `user` as a member of the audience, whatever the segment says now: a journey's message
    /// step (the user entered the journey; its `exit_when` decides when they leave). Nil for an unknown user.
    public func planMember(user: String) -> Decision? {
        guard let row = inputs.snapshot.ids.firstIndex(of: user) else { return nil }
        var mask = Array(repeating: false, count: inputs.snapshot.count)
        mask[row] = true
        return plan(mask: mask, chunks: 1).first
    }

    /// `plan()` over a given audience in `chunks` parallel chunks.
    func plan(mask: [Bool], chunks: Int) -> [Decision] {
        let rows = mask.indices.filter { mask[$0] }
        let (segment, everyone) = aggregates(mask, chunks: chunks)
        let results = LockedState([Int: [Decision]]())
        DispatchQueue.concurrentPerform(iterations: chunks) { k in
            let context = PlanningContext(pipeline: self, segment: segment, everyone: everyone)
            var none: [DecisionCheck]? = nil
            var out: [Decision] = []
            let range = (rows.count * k / chunks)..<(rows.count * (k + 1) / chunks)
            out.reserveCapacity(range.count)
            for i in range {
                out.append(decide(row: rows[i], inAudience: true, context: context, trace: &none))
            }
            results.withLock { $0[k] = out }
        }
        return results.withLock { all in (0..<chunks).flatMap { all[$0] ?? [] } }
    }

    /// The best_time fallback profiles (the audience's and everyone's), summed chunk by chunk in a fixed order
    /// so that plan and explain see bit-identical aggregates.
    func aggregates(_ mask: [Bool], chunks: Int) -> (segment: ActivityProfile, everyone: ActivityProfile) {
        var segment = ActivityProfile()
        var everyone = ActivityProfile()
        guard campaign.sendTime.strategy == .bestTime else { return (segment, everyone) }
        let parts = LockedState([Int: (ActivityProfile, ActivityProfile)]())
        DispatchQueue.concurrentPerform(iterations: chunks) { k in
            let context = PlanningContext(pipeline: self)
            let range = (mask.count * k / chunks)..<(mask.count * (k + 1) / chunks)
            let part = context.aggregate(rows: range, audience: mask)
            parts.withLock { $0[k] = part }
        }
        parts.withLock { all in
            for k in 0..<chunks {
                guard let (s, e) = all[k] else { continue }
                segment.merge(s)
                everyone.merge(e)
            }
        }
        return (segment, everyone)
    }

    /// Chunks of a planning pass over `users` snapshot rows: 8 for large passes, else 1.
    static func chunks(_ users: Int) -> Int { users >= 50_000 ? 8 : 1 }

    /// The decision for one user with its check-by-check trace, or nil when the user is unknown.
    public func explain(user: String) -> (decision: Decision, checks: [DecisionCheck])? {
        guard let row = inputs.snapshot.ids.firstIndex(of: user) else { return nil }
        let facts = inputs.snapshot.facts(row: row)
        let env = audienceEnvironment
        var inAudience = campaign.audience.segment.matches(facts, env, population: inputs.population)
        var excluded = false
        if inAudience, let ex = campaign.audience.exclude, ex.matches(facts, env, population: inputs.population)
        {
            inAudience = false
            excluded = true
        }
        let (segment, everyone) =
            campaign.sendTime.strategy == .bestTime
            ? aggregates(audienceMask(), chunks: Self.chunks(inputs.snapshot.count))
            : (ActivityProfile(), ActivityProfile())
        let context = PlanningContext(pipeline: self, segment: segment, everyone: everyone)
        var trace: [DecisionCheck]? = []
        // Which parts of the expression decided it, with their values (SegmentExplain).
        func because(_ segment: CompiledSegment, _ prefix: String) {
            for line in segment.explain(facts, inputs.environment, population: inputs.population) {
                trace?.append(DecisionCheck(name: "audience", passed: false, detail: prefix + line))
            }
        }
        if excluded, let ex = campaign.audience.exclude {
            trace?.append(
                DecisionCheck(
                    name: "audience", passed: false, detail: "matches the segment but also the exclude"))
            because(ex, "exclude: ")
        } else if !inAudience {
            trace?.append(
                DecisionCheck(
                    name: "audience", passed: false,
                    detail: "does not match: \(campaign.audience.segment.source.text.trimmingCharacters())"))
            because(campaign.audience.segment, "segment: ")
        }
        let d = decide(row: row, inAudience: inAudience, context: context, trace: &trace)
        return (d, trace ?? [])
    }

    /// Plans several campaigns' occurrences in one pass: higher priority first (then id), each campaign's
    /// planned sends consuming cap room before the next is planned.
    public static func planAll(_ items: [(Campaign, Occurrence)], inputs: PlanningInputs) -> [Decision] {
        var inputs = inputs
        var out: [Decision] = []
        let ordered = items.sorted { ($0.0.priority, $1.0.id) > ($1.0.priority, $0.0.id) }
        for (campaign, occurrence) in ordered {
            let decisions = DecisionPipeline(campaign: campaign, occurrence: occurrence, inputs: inputs)
                .plan()
            for d in decisions where d.outcome == .send {
                guard let channel = d.channel, let at = d.sendAt else { continue }
                inputs.history[d.user, default: []].append(
                    SendRecord(
                        at: at, channel: channel, topic: campaign.topic, campaign: campaign.id,
                        transactional: campaign.transactional))
            }
            out += decisions
        }
        return out
    }
}
