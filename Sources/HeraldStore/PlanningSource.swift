import HeraldCore

/// Loads what a planning pass reads, in bulk: the audience snapshot, RFM population, consent, suppressions and
/// the ledger's send history. `herald dry-run`, `herald why` and the daemon's scheduler all plan from it.
public enum PlanningSource {
    /// Inputs for planning `campaigns` at `now` (the snapshot holds what every one of them needs).
    public static func inputs(
        store: any HeraldAudience, ledger: any DispatchLedger, config: HeraldConfig, campaigns: [Campaign], now: Int64
    ) async throws -> PlanningInputs {
        var requirements = PopulationStats.requirements
        for c in campaigns { requirements = requirements.union(c.requirements) }
        let snapshot = try await store.snapshot(requirements)
        let env = EvaluationEnvironment(
            now: now, lifecycle: config.lifecycle, defaultTimeZone: config.policy.defaultTimezone)
        let population = PopulationStats.compute(snapshot, env)
        let (consent, suppressions) = try await store.consentBook()
        let history = try await ledger.sendHistory(since: now - longestCapWindow(config.policy, campaigns))
        return PlanningInputs(
            snapshot: snapshot, population: population, environment: env, policy: config.policy,
            consent: consent, suppressions: suppressions, history: history)
    }

    /// The longest window any cap of `policy` or `campaigns` looks back over, seconds.
    public static func longestCapWindow(_ policy: PolicyConfig, _ campaigns: [Campaign]) -> Int64 {
        (policy.caps.map(\.per) + campaigns.map { $0.limits.perUser?.per ?? 0 }).max() ?? 0
    }
}
