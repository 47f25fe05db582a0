import Foundation
import HeraldCore
import HeraldLedger

/// One campaign's funnel and experiment, rendered for `herald stats` as a table or a JSON object.
struct StatsReport {
    /// What is known about the campaign's conversion goal.
    enum Goal {
        /// `conversion:` in the campaign file.
        case configured(Campaign.Conversion)
        /// The campaign file has no `conversion:`.
        case none
        /// No campaign file has this id (removed or renamed since it was planned).
        case unknown
    }

    /// One row of the experiment table: an arm, and against the holdout its lift or why there is none.
    struct ArmLine {
        /// The arm.
        var arm: ExperimentArm
        /// The lift over the holdout with its 95% interval.
        var lift: ProportionDifference?
        /// Why there is no lift: the baseline (the holdout itself), no goal, no holdout, n too small.
        var note: String?
    }

    /// The counts.
    let funnel: CampaignFunnel
    /// The goal the conversions were counted against.
    let goal: Goal

    /// The goal in words, for the title line and the rows that have no rate.
    var goalText: String {
        switch goal {
        case .configured(let c): "conversion: \(c.event) within \(DurationSpec.format(c.within))"
        case .none: "no conversion goal configured"
        case .unknown: "campaign file not found, so no conversion goal"
        }
    }

    /// The arms, each variant compared with the holdout (`CampaignFunnel.armComparisons`), notes in words.
    var armLines: [ArmLine] {
        funnel.armComparisons.map { c in
            let note: String? =
                switch c.note {
                case .baseline: "baseline"
                case .noGoal: goalText
                case .noHoldout: "no holdout to compare with"
                case .tooSmall: "n too small"
                case nil: nil
                }
            return ArmLine(arm: c.arm, lift: c.lift, note: note)
        }
    }

    /// The funnel table, then the experiment table when there is an experiment.
    func table() -> [String] {
        let f = funnel
        var stages = TextTable(header: ["stage", "rows", "share"])
        /// A stage row with its share of `base`.
        func add(_ stage: String, _ n: Int, of base: Int, _ baseName: String) {
            stages.add([
                stage, "\(n)", base > 0 ? "\(Self.percent(Double(n) / Double(base))) of \(baseName)" : "",
            ])
        }
        stages.add(["audience", "\(f.decisions)", ""])
        add("holdout", f.count(.holdout), of: f.decisions, "audience")
        add("suppressed", f.count(.suppressed), of: f.decisions, "audience")
        for (reason, n) in f.suppressedReasons.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
            stages.add(["  \(reason)", "\(n)", ""])
        }
        add("pending", f.pending, of: f.decisions, "audience")
        add("sent", f.sent, of: f.decisions, "audience")
        add("delivered", f.count(.delivered), of: f.sent, "sent")
        for status in [LedgerStatus.failed, .dead] {
            add(status.rawValue, f.count(status), of: f.decisions, "audience")
        }
        add("bounced", f.count(.bounced), of: f.sent, "sent")
        for status in [LedgerStatus.expired, .cancelled] {
            add(status.rawValue, f.count(status), of: f.decisions, "audience")
        }
        add("opened", f.opened, of: f.sent, "sent")
        add("clicked", f.clicked, of: f.sent, "sent")
        if let converted = f.converted {
            add("converted", converted, of: f.sent, "sent")
        } else {
            stages.add(["converted", "-", goalText])
        }
        var lines = ["\(f.campaign): \(goalText)"] + stages.render()
        guard !f.arms.isEmpty else { return lines }
        var arms = TextTable(header: ["arm", "users", "converted", "rate", "lift vs holdout (95% CI)"])
        for line in armLines {
            let a = line.arm
            let lift = line.lift.map {
                "\(Self.points($0.difference)) pp (\(Self.points($0.low)) to \(Self.points($0.high)))"
            }
            arms.add([
                Self.label(a), "\(a.users)", a.converted.map { "\($0)" } ?? "-",
                a.rate.map(Self.percent) ?? "-", lift ?? line.note ?? "",
            ])
        }
        lines += [""] + arms.render()
        return lines
    }

    /// The funnel as one JSON object; every count is present, rates and lifts are null where there are none.
    func json() -> String {
        let f = funnel
        var line = JSONLine()
        line.add("campaign", f.campaign)
        if case .configured(let c) = goal {
            var o = JSONLine()
            o.add("event", c.event)
            o.add("within", DurationSpec.format(c.within))
            line.addRaw("conversion", o.text)
        } else {
            line.addRaw("conversion", "null")
        }
        line.add("audience", f.decisions)
        line.add("holdout", f.count(.holdout))
        line.add("suppressed", f.count(.suppressed))
        line.addRaw("suppressed_by_reason", Self.object(f.suppressedReasons.sorted { $0.key < $1.key }))
        line.add("pending", f.pending)
        line.add("sent", f.sent)
        for s in [LedgerStatus.delivered, .failed, .dead, .bounced, .expired, .cancelled] {
            line.add(s.rawValue, f.count(s))
        }
        line.add("opened", f.opened)
        line.add("clicked", f.clicked)
        line.addRaw("converted", f.converted.map { "\($0)" } ?? "null")
        line.addRaw("statuses", Self.object(LedgerStatus.allCases.map { ($0.rawValue, f.count($0)) }))
        let arms = armLines.map { l in
            var o = JSONLine()
            o.add("arm", l.arm.isHoldout ? "holdout" : "variant")
            o.add("variant", l.arm.variant)
            o.add("users", l.arm.users)
            o.addRaw("converted", l.arm.converted.map { "\($0)" } ?? "null")
            o.add("rate", l.arm.rate)
            o.add("lift", l.lift?.difference)
            o.add("ci_low", l.lift?.low)
            o.add("ci_high", l.lift?.high)
            o.add("note", l.note)
            return o.text
        }
        line.addRaw("arms", "[" + arms.joined(separator: ",") + "]")
        return line.text
    }

    /// `{"key":n,…}` in the order given.
    static func object(_ pairs: [(key: String, value: Int)]) -> String {
        "{" + pairs.map { "\(JSONLine.quote($0.key)):\($0.value)" }.joined(separator: ",") + "}"
    }

    /// An arm's name in the table.
    static func label(_ arm: ExperimentArm) -> String {
        arm.isHoldout ? "holdout" : arm.variant ?? "(no variant)"
    }

    /// `12.5%`.
    static func percent(_ fraction: Double) -> String { String(format: "%.1f%%", fraction * 100) }

    /// A signed difference in percentage points: `+6.1`, `-2.0`.
    static func points(_ fraction: Double) -> String { String(format: "%+.1f", fraction * 100) }
}
