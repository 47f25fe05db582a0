import HeraldCore

/// Loads what a planning pass reads, in bulk: the audience snapshot with each user's engagement, RFM population,
/// consent, suppressions and the ledger's send history. `herald dry-run`, `herald why` and the daemon's
/// scheduler all plan from it.
public enum PlanningSource {
    /// Inputs for planning `campaigns` at `now` (the snapshot holds what every one of them needs); `goals` are
    /// the conversion goals of every configured campaign (`Campaign.conversionGoals`), for engagement;
    /// `extra` is what more the snapshot must hold (a journey's branch and exit conditions).
    public static func inputs(
        store: any HeraldAudience, ledger: any DispatchLedger, config: HeraldConfig, campaigns: [Campaign], now: Int64,
        goals: [String: Campaign.Conversion], extra: SnapshotRequirements = SnapshotRequirements()
    ) async throws -> PlanningInputs {
        var requirements = PopulationStats.requirements.union(extra)
        for c in campaigns { requirements = requirements.union(c.requirements) }
        // Engagement is read by `engagement()` and by adaptive caps; the ledger query runs beside the snapshot.
        let wanted = requirements.engagement || config.policy.adaptiveCaps
        async let measured = wanted ? ledger.engagement(users: nil, now: now, goals: goals) : [:]
        var snapshot = try await store.snapshot(requirements)
        fill(&snapshot, try await measured)
        let env = EvaluationEnvironment(
            now: now, lifecycle: config.lifecycle, defaultTimeZone: config.policy.defaultTimezone)
        let population = PopulationStats.compute(snapshot, env)
        let (consent, suppressions) = try await store.consentBook()
        let lookBack = max(longestCapWindow(config.policy, campaigns), requirements.received.values.max() ?? 0)
        let history = try await ledger.sendHistory(since: now - lookBack)
        fillReceived(&snapshot, requirements.received, history: history, now: now)
        return PlanningInputs(
            snapshot: snapshot, population: population, environment: env, policy: config.policy,
            consent: consent, suppressions: suppressions, history: history)
    }

    /// Sets `snapshot.engagement` to every user's engagement at `now`, from one grouped ledger query (NaN, the
    /// segment language's null, for a user with no send in the window).
    public static func fillEngagement(
        _ snapshot: inout AudienceSnapshot, ledger: any DispatchLedger, now: Int64, goals: [String: Campaign.Conversion]
    ) async throws {
        fill(&snapshot, try await ledger.engagement(users: nil, now: now, goals: goals))
    }

    /// Sets `snapshot.engagement` from `measured` (NaN for a user absent from it).
    static func fill(_ snapshot: inout AudienceSnapshot, _ measured: [String: Engagement]) {
        snapshot.engagement =
            measured.isEmpty
            ? Array(repeating: .nan, count: snapshot.count) : snapshot.ids.map { measured[$0]?.ratio ?? .nan }
    }

    /// Sets `snapshot.received` for the campaigns `received()` asks about: each row's last send of the campaign at
    /// or before `now`, from the ledger history read.
    static func fillReceived(
        _ snapshot: inout AudienceSnapshot, _ asked: [String: Int64], history: [String: [SendRecord]], now: Int64
    ) {
        guard !asked.isEmpty else { return }
        for campaign in asked.keys {
            snapshot.received[campaign] = snapshot.ids.map { user in
                history[user]?.filter { $0.campaign == campaign && $0.at <= now }.map(\.at).max() ?? AudienceSnapshot.nullTime
            }
        }
    }

    /// The longest window any cap of `policy` or `campaigns` looks back over, seconds.
    public static func longestCapWindow(_ policy: PolicyConfig, _ campaigns: [Campaign]) -> Int64 {
        (policy.caps.map(\.per) + campaigns.map { $0.limits.perUser?.per ?? 0 }).max() ?? 0
    }
}
