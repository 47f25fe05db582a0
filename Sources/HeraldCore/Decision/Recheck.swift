/// The dispatch-time re-check (SPEC §5.1): consent and caps are read again just before a planned send goes.
extension DecisionPipeline {
    /// `decision` re-validated against fresh consent, suppressions and send history (which must not include
    /// the decision's own ledger row); a planned send that is no longer allowed becomes `suppressed` with the reason.
    public static func recheck(
        _ decision: Decision, campaign: Campaign, consent: ConsentState, suppressions: [String: [String]],
        history: [SendRecord], engagement: Double?, policy: PolicyConfig, now: Int64
    ) -> Decision {
        guard decision.outcome == .send, let channel = decision.channel else { return decision }
        var d = decision
        func suppress(_ reason: String) -> Decision {
            d.outcome = .suppressed
            d.reason = reason
            d.sendAt = nil
            return d
        }
        if let reason = consentReason(
            consent, userID: decision.user, campaign: campaign, suppressions: suppressions)
        {
            return suppress(reason)
        }
        if consent.channels.contains(channel.rawValue) { return suppress("opted_out:channel") }
        if let address = decision.address, let list = suppressions[address]?.first {
            return suppress("suppressed:\(list)")
        }
        let caps = CapPolicy(rules: policy.caps, adaptive: policy.adaptiveCaps)
        let verdicts = caps.verdicts(
            campaign: campaign, channel: channel, history: history, engagement: engagement, now: now)
        if let blocked = verdicts.first(where: \.blocked) { return suppress("cap:\(blocked.label)") }
        return d
    }
}
