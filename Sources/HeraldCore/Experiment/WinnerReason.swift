import Foundation

/// The one-line reasons of `WinnerDecision`, e.g. "b beats a: 4.1% vs 3.2%, z=2.31, p=0.021 < 0.05".
enum WinnerReason {
    /// A significant result.
    static func significant(
        winner: ArmStats, tested: [ArmStats], test: ProportionTestResult, alpha: Double
    ) -> String {
        let others = tested.filter { $0.id != winner.id }
        let p = "p=\(pValue(test.pValue, alpha: alpha)) < \(number(alpha))"
        if test.kind == .zTest, let loser = others.first {
            return "\(winner.id) beats \(loser.id): \(rate(winner)) vs \(rate(loser)), "
                + "z=\(statistic(abs(test.statistic))), \(p)"
        }
        let rest = others.map { "\($0.id) \(rate($0))" }.joined(separator: ", ")
        return "\(winner.id) has the highest rate: \(rate(winner)) vs \(rest); \(statisticText(test)), \(p)"
    }

    /// A test that ran and found no significant difference.
    static func notSignificant(tested: [ArmStats], test: ProportionTestResult, alpha: Double) -> String {
        let rates = tested.map { "\($0.id) \(rate($0))" }.joined(separator: " vs ")
        return "no significant difference: \(rates), \(statisticText(test)), "
            + "p=\(pValue(test.pValue, alpha: alpha)) ≥ \(number(alpha))"
    }

    /// No test could run.
    static func untestable(_ why: ProportionTest.Unavailable, arms: [ArmStats]) -> String {
        switch why {
        case .fewerThanTwoArms:
            let sent = arms.map { "\($0.id) \($0.sent)" }.joined(separator: ", ")
            return "no test: fewer than two arms sent anything (sent: \(sent))"
        case .noVariance(let pooled):
            return pooled == 0
                ? "no test: no sent message met the metric in any arm"
                : "no test: every sent message met the metric in every arm"
        }
    }

    /// The `if_no_winner` part.
    static func fallback(_ rule: WinnerTest.IfNoWinner, winner: ArmStats?) -> String {
        guard let winner else { return "if_no_winner: \(rule.rawValue) → nothing more is sent" }
        let shown = winner.rate.map { " (\(percent($0)))" } ?? ""
        return "if_no_winner: \(rule.rawValue) → \(winner.id)\(shown)"
    }

    // MARK: - Numbers

    /// "z=1.23" or "χ²=4.56 (df 2)".
    static func statisticText(_ test: ProportionTestResult) -> String {
        switch test.kind {
        case .zTest: return "z=\(statistic(test.statistic))"
        case .chiSquare: return "χ²=\(statistic(test.statistic)) (df \(test.degreesOfFreedom))"
        }
    }

    static func rate(_ arm: ArmStats) -> String { arm.rate.map(percent) ?? "no sends" }

    /// A rate as a percentage: one decimal from 1 % up, two below.
    static func percent(_ rate: Double) -> String {
        let pct = rate * 100
        return String(format: pct >= 1 || pct == 0 ? "%.1f%%" : "%.2f%%", pct)
    }

    static func statistic(_ value: Double) -> String { String(format: "%.2f", value) }

    /// "%g" without trailing noise: 1 − 0.95 prints as 0.05.
    static func number(_ value: Double) -> String { String(format: "%g", value) }

    /// Two significant digits, more when two would round across `alpha` (p=0.0496 must not print as 0.05).
    static func pValue(_ p: Double, alpha: Double) -> String {
        let shownAlpha = Double(number(alpha)) ?? alpha
        for digits in 2...6 {
            let text = String(format: "%.\(digits)g", p)
            if let shown = Double(text), shown != shownAlpha, (shown < shownAlpha) == (p < alpha) {
                return text
            }
        }
        return String(format: "%.6g", p)
    }
}
