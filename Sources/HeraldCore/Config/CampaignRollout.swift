import Yams

extension Campaign {
    /// The metric a winner test or bandit compares (docs/experiments.md).
    public enum WinnerMetric: String, Sendable, Hashable, CaseIterable {
        /// Opened (email pixel, `push_opened`).
        case open
        /// Clicked a tracked link.
        case click
        /// The campaign's `conversion` event within its window.
        case conversion
    }

    /// `experiment.winner`: test a share of the audience, then send the winner to the rest; or a bandit.
    public enum Winner: Sendable, Hashable {
        /// One-shot campaigns: `test` share first, decision `after` the test's start.
        case test(WinnerTestPlan)
        /// Recurring and event campaigns: Thompson sampling, each arm at least `floor` of the traffic.
        case bandit(metric: WinnerMetric, floor: Double)

        /// The metric compared.
        public var metric: WinnerMetric {
            switch self {
            case .test(let p): p.metric
            case .bandit(let m, _): m
            }
        }
    }

    /// The settings of a "test, then send the winner" experiment.
    public struct WinnerTestPlan: Sendable, Hashable {
        /// The share of the audience (after holdout) that gets the variants first, a fraction.
        public var testShare: Double
        /// What is compared.
        public var metric: WinnerMetric
        /// Seconds from the test's planned start to the decision.
        public var after: Int64
        /// The confidence, a fraction (0.95).
        public var confidence: Double
        /// What to send when no variant wins.
        public var ifNoWinner: WinnerTest.IfNoWinner

        /// A plan.
        public init(testShare: Double, metric: WinnerMetric, after: Int64, confidence: Double,
                    ifNoWinner: WinnerTest.IfNoWinner) {
            self.testShare = testShare
            self.metric = metric
            self.after = after
            self.confidence = confidence
            self.ifNoWinner = ifNoWinner
        }
    }

    /// `rollout:`: a staged release with guardrails (docs/experiments.md).
    public struct Rollout: Sendable, Hashable {
        /// Cumulative shares of the audience.
        public var stages: RolloutStages
        /// Seconds between one stage's start and the next.
        public var every: Int64
        /// Limits whose breach halts the rollout.
        public var guardrails: RolloutGuardrails

        /// A rollout.
        public init(stages: RolloutStages, every: Int64, guardrails: RolloutGuardrails) {
            self.stages = stages
            self.every = every
            self.guardrails = guardrails
        }
    }
}

extension CampaignParser {
    /// `experiment.winner`, checked against the trigger (a test needs a one-shot campaign, a bandit a recurring
    /// or event one) and the variants (a bandit's floor must leave room for every arm).
    func winner(_ node: Node?, trigger: Campaign.Trigger?, variants: Int) -> Campaign.Winner? {
        let known = ["strategy", "test", "metric", "after", "confidence", "if_no_winner", "min_share"]
        guard let m = y.map(node, "experiment.winner", known: known, required: ["metric"]) else { return nil }
        let metric = y.choice(m["metric"], "experiment.winner.metric", Campaign.WinnerMetric.self)
        var bandit = false
        if let n = m["strategy"], let s = y.string(n, "experiment.winner.strategy") {
            switch s {
            case "bandit": bandit = true
            case "test": bandit = false
            default: y.report("experiment.winner.strategy: expected test or bandit, got '\(s)'", node: n)
            }
        }
        if variants < 2 {
            y.report("experiment.winner: needs at least two variants to compare", node: node)
        }
        let oneShot: Bool? = trigger.map {
            switch $0 {
            case .schedule, .api: true
            default: false
            }
        }
        if bandit {
            if oneShot == true {
                y.report("experiment.winner: a bandit learns over repeated sends; use it with cron, event or "
                         + "entered_segment campaigns (a one-shot campaign uses test/after)", node: m["strategy"])
            }
            let floor = m["min_share"].flatMap { y.percent($0, "experiment.winner.min_share") }.map { $0 / 100 } ?? 0.10
            if variants > 0, floor * Double(variants) > 1 {
                y.report("experiment.winner.min_share: \(Int(floor * 100))% for each of \(variants) variants is over 100%",
                         node: m["min_share"] ?? node)
            }
            guard let metric else { return nil }
            return .bandit(metric: metric, floor: floor)
        }
        if oneShot == false {
            y.report("experiment.winner: test-then-send needs a one-shot campaign (schedule or api); recurring and "
                     + "event campaigns use strategy: bandit", node: node)
        }
        let test = y.percent(m["test"], "experiment.winner.test")
        if m["test"] == nil { y.report("experiment.winner: 'test' (the share tested first, e.g. 20%) is required", node: node) }
        if let t = test, t <= 0 || t >= 100 {
            y.report("experiment.winner.test: expected a share between 0% and 100% exclusive", node: m["test"])
        }
        let after = y.duration(m["after"], "experiment.winner.after")
        if m["after"] == nil { y.report("experiment.winner: 'after' (when to decide, e.g. 4h) is required", node: node) }
        let confidence = m["confidence"] == nil ? 95 : y.percent(m["confidence"], "experiment.winner.confidence")
        if let c = confidence, c <= 50 || c >= 100 {
            y.report("experiment.winner.confidence: expected a level above 50% and below 100%, such as 95%",
                     node: m["confidence"])
        }
        let ifNoWinner = m["if_no_winner"] == nil
            ? .best : y.choice(m["if_no_winner"], "experiment.winner.if_no_winner", WinnerTest.IfNoWinner.self)
        guard let metric, let test, let after, let confidence, let ifNoWinner else { return nil }
        return .test(Campaign.WinnerTestPlan(testShare: test / 100, metric: metric, after: after,
                                             confidence: confidence / 100, ifNoWinner: ifNoWinner))
    }

    /// `rollout:`.
    func rollout(_ node: Node?) -> Campaign.Rollout? {
        guard let m = y.map(node, "rollout", known: ["stages", "every", "halt_if"], required: ["stages", "every"])
        else { return nil }
        let percents = y.list(m["stages"], "rollout.stages").enumerated().map { i, n in
            y.percent(n, "rollout.stages[\(i)]")
        }
        var stages: RolloutStages?
        if percents.allSatisfy({ $0 != nil }) {
            do throws(RolloutStages.Invalid) {
                stages = try RolloutStages(percents: percents.compactMap { $0 })
            } catch {
                y.report(error.description, node: m["stages"])
            }
        }
        let every = y.duration(m["every"], "rollout.every")
        var guardrails = RolloutGuardrails()
        if let h = y.map(m["halt_if"], "rollout.halt_if", known: ["unsubscribe_rate", "failure_rate", "complaint_rate"]) {
            guardrails.unsubscribeRate = h["unsubscribe_rate"].flatMap { y.percent($0, "rollout.halt_if.unsubscribe_rate") }.map { $0 / 100 }
            guardrails.failureRate = h["failure_rate"].flatMap { y.percent($0, "rollout.halt_if.failure_rate") }.map { $0 / 100 }
            guardrails.complaintRate = h["complaint_rate"].flatMap { y.percent($0, "rollout.halt_if.complaint_rate") }.map { $0 / 100 }
        }
        guard let stages, let every else { return nil }
        return Campaign.Rollout(stages: stages, every: every, guardrails: guardrails)
    }
}
