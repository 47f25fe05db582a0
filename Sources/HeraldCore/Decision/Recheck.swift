/// The dispatch-time re-check (docs/decisions.md): consent and caps are read again just before a planned send goes.
extension DecisionPipeline {
    /// `decision` re-validated against fresh consent, suppressions and send history (which must not include
    /// the decision's own ledger row) and the campaign's `cancel_if` against the user's events of that name
    /// (`cancelEvents`, epoch seconds) since the trigger at `triggeredAt`; a planned send that is no longer
    /// allowed becomes `suppressed` with the reason (`cancelled:<event>` for `cancel_if`).
    ///
    /// `cancel_if` cancels when such an event happened between the trigger and the send; `within` is how far
    /// back from the send it looks at most (docs/campaigns.md, "cancel_if"). `cancelEvents` holds what is stored.
    public static func recheck(
        _ decision: Decision, campaign: Campaign, consent: ConsentState, suppressions: [String: [String]],
        history: [SendRecord], engagement: Double?, policy: PolicyConfig, now: Int64,
        cancelEvents: [Int64] = [], triggeredAt: Int64? = nil
    ) -> Decision {
        guard decision.outcome == .send, let channel = decision.channel else { return decision }
        var d = decision
        func suppress(_ reason: SkipReason) -> Decision {
            d.outcome = .suppressed
            d.skip = reason
            d.sendAt = nil
            return d
        }
        if case .event(_, _, let cancel?) = campaign.trigger, let start = triggeredAt {
            let from = cancelWindowStart(trigger: start, within: cancel.within, now: now)
            // No upper bound: an event already stored happened before this send, whatever its clock said.
            if cancelEvents.contains(where: { $0 >= from }) { return suppress(.cancelled(event: cancel.event)) }
        }
        if let reason = consentSkip(
            consent, userID: decision.user, campaign: campaign, suppressions: suppressions)
        {
            return suppress(reason)
        }
        if consent.channels.contains(channel) { return suppress(.optedOutChannel) }
        if let address = decision.address, let list = suppressions[address]?.first {
            return suppress(.suppressed(list: list))
        }
        let caps = CapPolicy(rules: policy.caps, adaptive: policy.adaptiveCaps)
        let verdicts = caps.verdicts(
            campaign: campaign, channel: channel, history: history, engagement: engagement, now: now)
        if let blocked = verdicts.first(where: \.blocked) { return suppress(.cap(blocked.label)) }
        return d
    }

    /// The earliest event time that still cancels a send going at `now`: `within` before it, never before the trigger.
    public static func cancelWindowStart(trigger: Int64, within: Int64, now: Int64) -> Int64 {
        max(trigger, now - within)
    }
}
