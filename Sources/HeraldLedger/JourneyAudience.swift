import HeraldCore

extension PlanningSource {
    /// The users of each journey's audience (its segment, minus its exclude) at `now`, in snapshot order, from
    /// one snapshot holding what every audience reads: what a `schedule`, `cron`, `entered_segment` or `api`
    /// trigger enters, and what `herald dry-run --simulate` starts from (docs/journeys.md).
    public static func audiences(
        of journeys: [JourneyDefinition], store: any HeraldAudience, ledger: any DispatchLedger, config: HeraldConfig,
        now: Int64, goals: [String: Campaign.Conversion]
    ) async throws -> [[String]] {
        guard !journeys.isEmpty else { return [] }
        var requirements = PopulationStats.requirements
        for j in journeys {
            requirements = requirements.union(j.audience.segment.requirements)
            if let ex = j.audience.exclude { requirements = requirements.union(ex.requirements) }
        }
        var snapshot = try await store.snapshot(requirements)
        if requirements.engagement {
            try await fillEngagement(&snapshot, ledger: ledger, now: now, goals: goals)
        }
        let env = EvaluationEnvironment(
            now: now, lifecycle: config.lifecycle, defaultTimeZone: config.policy.defaultTimezone)
        let population = PopulationStats.compute(snapshot, env)
        return journeys.map { j in
            let mask = j.audienceMask(snapshot, env, population: population)
            return mask.indices.filter { mask[$0] }.map { snapshot.ids[$0] }
        }
    }
}
