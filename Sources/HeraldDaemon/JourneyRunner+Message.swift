import HeraldCore
import HeraldLedger

extension StepContext {
    /// A message step (docs/journeys.md, "Message steps"), in two moves: the first claims the step (writes its
    /// ledger key into the instance), the second decides it through the decision pipeline and records the
    /// row under that key; the instance moves on when the row is done — sent, or any final status. A cap
    /// holds the step inside its window (`on_capped: defer`) or skips it at once (`skip`).
    mutating func message(_ step: JourneyStep, _ m: JourneyMessageStep, _ i: inout JourneyInstance) async throws
        -> (JourneyStepOutcome, String)?
    {
        let key = JourneyRunner.messageKey(journey: journey.id, instance: i.id, user: i.user, step: step.id)
        if let row = try await runner.ledger.entry(key: key) {
            if let done = Self.done(row) { return (.done, done) }
            i.messageKey = key
            i.dueAt = max(now, row.scheduledAt ?? now) + JourneyRunner.messagePoll
            return nil
        }
        guard i.messageKey == key else {
            // First claim the step: the move that records its key is a compare-and-set, so only the runner
            // (or event) whose move wins goes on to record the row; a move that lost records nothing.
            i.messageKey = key
            i.dueAt = now
            return nil
        }
        guard let campaign = journey.messageCampaign(for: step) else { return (.done, "skipped:no_message") }
        let occurrence = Occurrence(start: i.reachedAt, id: "\(i.id)/\(step.id)")
        guard
            let inputs = try await PlanningSource.inputs(
                forUser: i.user, store: runner.store, ledger: runner.ledger, config: book.config, campaign: campaign,
                now: now, goals: Campaign.conversionGoals(book.campaigns),
                population: try await runner.population(book, now)),
            let decision = DecisionPipeline(campaign: campaign, occurrence: occurrence, inputs: inputs)
                .planMember(user: i.user)
        else { return (.done, "skipped:" + SkipReason.noContact.description) }
        let windowEnd = occurrence.windowEnd(within: m.sendTime.within)
        if case .cap? = decision.skip, m.onCapped == .defer, now + JourneyRunner.capRetry < windowEnd {
            i.dueAt = now + JourneyRunner.capRetry
            return nil
        }
        var entry = LedgerEntry(decision: decision, campaign: campaign, at: now, trigger: i.reachedAt)
        entry.idempotencyKey = key
        entry.occurrence = occurrence.id
        entry.windowEnd = windowEnd
        _ = try await runner.ledger.recordOccurrence(
            OccurrenceRecord(
                campaign: journey.id, occurrence: "\(i.id)/\(i.user)/\(step.id)", start: i.reachedAt, status: .planned),
            entries: [entry], at: now)
        guard decision.outcome == .send, let at = decision.sendAt else {
            return (.done, "skipped:" + (decision.reason ?? "suppressed"))
        }
        i.messageKey = key
        i.dueAt = max(now, at) + JourneyRunner.messagePoll
        return nil
    }

    /// What a message row's status says about its step: nil while it may still be sent.
    static func done(_ row: LedgerEntry) -> String? {
        switch row.status {
        case .planned, .scheduled, .sending, .failed: nil
        case .sent, .delivered, .bounced: "sent"
        case .dead, .suppressed, .holdout, .cancelled, .expired:
            "skipped:" + (row.reason ?? row.status.rawValue)
        }
    }
}
