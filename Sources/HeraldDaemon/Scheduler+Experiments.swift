import Foundation
import HeraldCore
import HeraldLedger
import Logging

/// Winner tests and staged rollouts (docs/experiments.md): which part of an audience an occurrence may plan, and
/// the scheduler's step that decides winners and releases stages — each once, recorded in the ledger as an
/// occurrence of its own (`recordOccurrence` inserts it once across crashes and daemons).
///
/// Occurrence ids carry the wave: `O` is the test (or the first stage), `O~rest` the rest of the audience
/// with the winner, `O~stage2`… the later stages of a one-shot campaign; `rollout-stage-K` records when stage K
/// of a recurring or event campaign was released. Waves hold disjoint users, so nobody is planned twice.
extension Scheduler {
    static let restSuffix = "~rest"
    static let stageMarker = "~stage"
    static let releasePrefix = "rollout-stage-"

    /// The users occurrence `id` of `c` may plan (nil: everyone in the audience). `released` is the number of
    /// stages out for recurring and event campaigns.
    static func admission(_ c: Campaign, occurrence id: String, released: Int) -> (@Sendable (String) -> Bool)? {
        let campaign = c.id
        if id.hasSuffix(restSuffix), case .test(let plan)? = c.experiment?.winner {
            return { ExperimentBucket.winnerTest(campaign: campaign, user: $0) >= plan.testShare }
        }
        if let r = id.range(of: stageMarker), let rollout = c.rollout, let k = Int(id[r.upperBound...]), k >= 2,
           k <= rollout.stages.count {
            let range = rollout.stages.range(ofStage: k - 1)
            return {
                let b = ExperimentBucket.rollout(campaign: campaign, user: $0)
                return b >= range.lower && b < range.upper
            }
        }
        var tests: [@Sendable (String) -> Bool] = []
        if case .test(let plan)? = c.experiment?.winner {
            tests.append { ExperimentBucket.winnerTest(campaign: campaign, user: $0) < plan.testShare }
        }
        if let rollout = c.rollout {
            let share = rollout.stages.shares[max(0, min(isOneShot(c) ? 1 : released, rollout.stages.count) - 1)]
            let none = !isOneShot(c) && released == 0
            tests.append { none ? false : ExperimentBucket.rollout(campaign: campaign, user: $0) < share }
        }
        guard !tests.isEmpty else { return nil }
        let all = tests
        return { user in all.allSatisfy { $0(user) } }
    }

    /// True for campaigns planned once per occurrence (`schedule`, `api`): their stages and winner waves follow
    /// each occurrence; recurring and event campaigns release stages for the campaign as a whole.
    static func isOneShot(_ c: Campaign) -> Bool {
        switch c.trigger {
        case .schedule, .api: true
        default: false
        }
    }

    /// Stages released so far for a recurring or event campaign.
    func releasedStages(_ c: Campaign) async throws -> Int {
        if let known = rolloutReleased.withLock({ $0[c.id] }) { return known }
        let n = try await ledger.occurrences(campaign: c.id, prefix: Self.releasePrefix).count
        rolloutReleased.withLock { $0[c.id] = n }
        return n
    }

    /// The scheduler's experiment step: decides due winner tests, releases due stages (or halts on a guardrail).
    /// Returns the decisions recorded.
    func advanceExperiments(_ book: CampaignBook, now: Int64) async throws -> Int {
        var recorded = 0
        for c in book.active where c.rollout != nil || c.experiment?.winner != nil {
            let records = try await ledger.occurrences(
                campaign: c.id, prefix: Self.isOneShot(c) ? "" : Self.releasePrefix)
            let ids = Set(records.map(\.occurrence))
            if Self.isOneShot(c) {
                let bases = records.filter {
                    $0.status == .planned && !$0.occurrence.contains("~") && !$0.occurrence.hasPrefix(Self.releasePrefix)
                        && $0.occurrence != OccurrenceRecord.activationID
                }
                for base in bases {
                    if case .test(let plan)? = c.experiment?.winner, !ids.contains(base.occurrence + Self.restSuffix),
                       now >= base.start + plan.after {
                        recorded += try await decideWinner(c, plan: plan, base: base, book: book, now: now)
                    }
                    if let rollout = c.rollout {
                        recorded += try await releaseStages(c, rollout, base: base, ids: ids, book: book, now: now)
                    }
                }
            } else if let rollout = c.rollout {
                try await releaseCampaignStage(c, rollout, records: records, book: book, now: now)
            }
        }
        return recorded
    }

    /// Decides a one-shot campaign's winner once, then plans the rest of the audience with it (its window
    /// starts now); `if_no_winner: stop` records the decision and plans nobody.
    private func decideWinner(
        _ c: Campaign, plan: Campaign.WinnerTestPlan, base: OccurrenceRecord, book: CampaignBook, now: Int64
    ) async throws -> Int {
        let arms = try await armStats(c, metric: plan.metric, occurrences: [base.occurrence], book: book)
        let decision: WinnerDecision
        do {
            decision = try WinnerTest.decide(arms: arms, confidence: plan.confidence, ifNoWinner: plan.ifNoWinner)
        } catch {
            logger.error("winner test cannot decide", metadata: ["campaign": "\(c.id)", "error": "\(error)"])
            return 0
        }
        let detail = String(decoding: (try? JSONEncoder.sorted.encode(decision)) ?? Data(), as: UTF8.self)
        let rest = Occurrence(start: now, id: base.occurrence + Self.restSuffix)
        guard let winner = decision.winner else {
            let (_, fresh) = try await ledger.recordOccurrence(
                OccurrenceRecord(campaign: c.id, occurrence: rest.id, start: now, status: .planned, detail: detail),
                entries: [], entered: [], left: [], at: now)
            if fresh { logger.notice("winner test decided: no winner, nothing more is sent", metadata: ["campaign": "\(c.id)", "reason": "\(decision.reason)"]) }
            return 0
        }
        var only = c
        only.experimentOverride(winner: winner)
        let (recorded, _) = try await self.plan([(only, rest, nil)], book: book, now: now, details: [c.id: detail])
        logger.notice("winner test decided", metadata: [
            "campaign": "\(c.id)", "winner": "\(winner)", "reason": "\(decision.reason)", "rest": "\(recorded)"])
        return recorded
    }

    /// Releases the stages of one occurrence of a one-shot campaign whose time has come, unless halted.
    private func releaseStages(
        _ c: Campaign, _ rollout: Campaign.Rollout, base: OccurrenceRecord, ids: Set<String>, book: CampaignBook,
        now: Int64
    ) async throws -> Int {
        guard rollout.stages.count >= 2 else { return 0 }
        var recorded = 0
        for k in 2...rollout.stages.count {
            let id = base.occurrence + Self.stageMarker + String(k)
            if ids.contains(id) { continue }
            guard now >= base.start + Int64(k - 1) * rollout.every else { break }
            guard try await mayRelease(c, rollout, now: now) else { break }
            recorded += try await plan([(c, Occurrence(start: now, id: id), nil)], book: book, now: now).recorded
            logger.notice("rollout stage released", metadata: [
                "campaign": "\(c.id)", "occurrence": "\(base.occurrence)", "stage": "\(rollout.stages.label(ofStage: k - 1))"])
        }
        return recorded
    }

    /// Releases the next stage of a recurring or event campaign (the first at first sight), unless halted.
    private func releaseCampaignStage(
        _ c: Campaign, _ rollout: Campaign.Rollout, records: [OccurrenceRecord], book: CampaignBook, now: Int64
    ) async throws {
        let released = records.filter { $0.occurrence.hasPrefix(Self.releasePrefix) }.sorted { $0.start < $1.start }
        rolloutReleased.withLock { $0[c.id] = released.count }
        guard released.count < rollout.stages.count else { return }
        if let last = released.last {
            guard now >= last.start + rollout.every, try await mayRelease(c, rollout, now: now) else { return }
        }
        let k = released.count + 1
        let (_, fresh) = try await ledger.recordOccurrence(
            OccurrenceRecord(campaign: c.id, occurrence: Self.releasePrefix + String(k), start: now, status: .planned,
                             detail: rollout.stages.label(ofStage: k - 1)),
            entries: [], entered: [], left: [], at: now)
        rolloutReleased.withLock { $0[c.id] = k }
        if fresh {
            logger.notice("rollout stage released", metadata: ["campaign": "\(c.id)", "stage": "\(rollout.stages.label(ofStage: k - 1))"])
        }
    }

    /// False when the rollout is halted, or when its guardrails are breached now (which halts it, loudly).
    private func mayRelease(_ c: Campaign, _ rollout: Campaign.Rollout, now: Int64) async throws -> Bool {
        if book.current.controls.haltedRollouts[c.id] != nil { return false }
        let counts = try await ledger.rolloutCounts(campaign: c.id)
        guard let breach = rollout.guardrails.evaluate(counts) else { return true }
        try await ledger.setControl(subject: c.id, kind: .rolloutHalted, on: true, by: "guardrail", reason: breach, at: now)
        logger.error("ROLLOUT HALTED by its guardrails: nothing beyond the released stages is planned until `herald rollout resume`",
                     metadata: ["campaign": "\(c.id)", "breach": "\(breach)"])
        return false
    }
}

extension Scheduler {
    /// For a campaign with `winner: { strategy: bandit }`: each decision outside the holdout gets the arm Thompson
    /// sampling picks from the arms' rates so far (each arm at least the floor of the traffic), unless the user
    /// already has an arm in this campaign's ledger rows — an arm is fixed once assigned. The pick is seeded by
    /// campaign, occurrence and user, so planning again picks the same (docs/experiments.md).
    func applyBandit(_ c: Campaign, _ decisions: [Decision], book: CampaignBook) async throws -> [Decision] {
        guard case .bandit(let metric, let floor)? = c.experiment?.winner, let variants = c.experiment?.variants,
              variants.count >= 2
        else { return decisions }
        let stats = try await armStats(c, metric: metric, occurrences: nil, book: book)
        let open = decisions.filter { $0.outcome != .holdout && $0.variant != nil }.map(\.user)
        let assigned = try await ledger.assignedVariants(campaign: c.id, users: open)
        let bandit = ThompsonBandit(floor: floor)
        return decisions.map { d in
            guard d.outcome != .holdout, d.variant != nil else { return d }
            var chosen = d
            if let arm = assigned[d.user] {
                chosen.variant = arm
            } else {
                var rng = SeededGenerator(seed: AssignmentHash.hash("bandit", c.id, d.occurrence, d.user))
                chosen.variant = stats[bandit.chooseArm(stats: stats, using: &rng)].id
            }
            return chosen
        }
    }
}

extension Scheduler {
    /// Each variant of `c` as the winner test and the bandit count it, in the order listed: rows sent and those
    /// opened or clicked (from `occurrences`, nil: all), or users and conversions from the funnel.
    func armStats(_ c: Campaign, metric: Campaign.WinnerMetric, occurrences: [String]?, book: CampaignBook) async throws
        -> [ArmStats]
    {
        let variants = c.experiment?.variants ?? []
        switch metric {
        case .open, .click:
            let counts = try await ledger.armCounts(campaign: c.id, occurrences: occurrences, clicks: metric == .click)
            return variants.map { ArmStats(id: $0.id, sent: counts[$0.id]?.sent ?? 0, successes: counts[$0.id]?.hits ?? 0) }
        case .conversion:
            let funnel = try await ledger.funnels(campaign: c.id, goals: Campaign.conversionGoals(book.campaigns)).first
            return variants.map { v in
                let arm = funnel?.arms.first { !$0.isHoldout && $0.variant == v.id }
                return ArmStats(id: v.id, sent: arm?.users ?? 0, successes: min(arm?.converted ?? 0, arm?.users ?? 0))
            }
        }
    }
}

extension Campaign {
    /// The campaign sending `winner` to everyone outside the holdout (the rest of a winner test).
    mutating func experimentOverride(winner: String) {
        guard let e = experiment, let v = e.variants.first(where: { $0.id == winner }) else { return }
        var only = Experiment(holdoutPercent: e.holdoutPercent, variants: [Variant(id: v.id, weight: 100, message: v.message)])
        only.winner = e.winner
        experiment = only
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys, for records compared byte for byte.
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
