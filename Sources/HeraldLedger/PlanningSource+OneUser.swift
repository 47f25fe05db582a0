import HeraldCore

extension PlanningSource {
    /// Inputs for planning `campaign` for one user (an event trigger), read the way `inputs` reads them for
    /// everyone: the user's facts and engagement, consent, suppressions of the user and their addresses, and the
    /// send history a cap counts — rows already sent and rows still pending. nil when the user does not exist.
    /// `population` is the RFM population the caller keeps (recomputing it per event would read everyone).
    public static func inputs(
        forUser user: String, store: any HeraldAudience, ledger: any DispatchLedger, config: HeraldConfig,
        campaign: Campaign, now: Int64, goals: [String: Campaign.Conversion], population: PopulationStats
    ) async throws -> PlanningInputs? {
        guard var facts = try await store.facts(id: user) else { return nil }
        // Read by `engagement()` and adaptive caps only: an event's request pays for the query when one needs it.
        if campaign.requirements.engagement || config.policy.adaptiveCaps {
            facts.engagement = try await ledger.engagement(users: [user], now: now, goals: goals)[user]?.ratio
        }
        let asked = campaign.requirements.received
        let lookBack = max(longestCapWindow(config.policy, [campaign]), asked.values.max() ?? 0)
        let sent = try await ledger.sentHistory(users: [user], since: now - lookBack, excluding: [])[user] ?? []
        for c in asked.keys {
            facts.received[c] = sent.filter { $0.campaign == c && $0.at <= now }.map(\.at).max()
        }
        let snapshot = AudienceSnapshot(facts: [facts], schema: config.attributes)
        let env = EvaluationEnvironment(
            now: now, lifecycle: config.lifecycle, defaultTimeZone: config.policy.defaultTimezone)
        let prefs = try await store.preferences(userID: user)
        let addresses = [user, facts.profile.email, facts.profile.phone].compactMap { $0 }
        var suppressions: [String: [String]] = [:]
        for s in try await store.isSuppressed(addresses) { suppressions[s.address, default: []].append(s.list) }
        let history = try await ledger.sentHistory(users: [user], since: now - lookBack, excluding: [])
        let pending = try await ledger.entries(campaign: nil, user: user, limit: 1000).compactMap(\.sendRecord)
        return PlanningInputs(
            snapshot: snapshot, population: population, environment: env, policy: config.policy,
            consent: [user: prefs.consentState], suppressions: suppressions,
            history: [user: Array(Set((history[user] ?? []) + pending))])
    }

    /// What the dispatcher's last check before a send reads for a batch of claimed rows.
    public struct RecheckInputs: Sendable {
        /// Profiles, consent, suppressions and the cancel events asked for.
        public var facts: DispatchFacts
        /// Sends a cap counts, by user, without the batch's own rows.
        public var history: [String: [SendRecord]]
        /// Engagement by user; empty unless adaptive caps read it.
        public var engagement: [String: Engagement]
    }

    /// Inputs for rechecking `rows` (each with its campaign) at `now`: the facts of their users and addresses,
    /// the `cancel_if` events since the earliest window any of them looks back over, the send history without
    /// the rows themselves, and engagement when adaptive caps read it (one grouped ledger query).
    public static func recheckInputs(
        rows: [(LedgerEntry, Campaign)], store: any HeraldAudience, ledger: any DispatchLedger, policy: PolicyConfig,
        now: Int64, goals: [String: Campaign.Conversion]
    ) async throws -> RecheckInputs {
        var cancelNames = Set<String>()
        var since = now
        for (row, c) in rows {
            if case .event(_, _, let cancel?) = c.trigger {
                cancelNames.insert(cancel.event)
                since = min(
                    since,
                    DecisionPipeline.cancelWindowStart(trigger: row.triggerAt ?? now, within: cancel.within, now: now))
            }
        }
        let users = rows.map(\.0.user)
        let facts = try await store.dispatchFacts(
            users: users, addresses: rows.compactMap(\.0.address), eventNames: cancelNames, eventsSince: since)
        let history = try await ledger.sentHistory(
            users: users, since: now - longestCapWindow(policy, rows.map(\.1)),
            excluding: Set(rows.map(\.0.idempotencyKey)))
        let engagement = policy.adaptiveCaps ? try await ledger.engagement(users: users, now: now, goals: goals) : [:]
        return RecheckInputs(facts: facts, history: history, engagement: engagement)
    }
}
