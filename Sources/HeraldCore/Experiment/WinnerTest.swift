import Foundation

/// The once-only decision of a "test, then send the winner" experiment (docs/experiments.md).
public struct WinnerDecision: Sendable, Hashable, Codable {
    /// The winning arm's id; nil when nothing more is to be sent (`if_no_winner: stop`).
    public var winner: String?
    /// True when the test found a difference at the requested confidence.
    public var significant: Bool
    /// Every arm's counts, in the order listed; `rate` is nil for an arm that sent nothing.
    public var arms: [ArmStats]
    /// The test that was run; nil when none could be (see `reason`).
    public var test: ProportionTestResult?
    /// The confidence asked for, a fraction (0.95); the test is significant when p < 1 − confidence.
    public var confidence: Double
    /// One line for the ledger, `herald stats` and the log.
    public var reason: String

    /// z (two arms) or χ² (more), when a test was run.
    public var statistic: Double? { test?.statistic }
    /// The test's p-value, when a test was run.
    public var pValue: Double? { test?.pValue }
    /// The test's degrees of freedom, when a test was run.
    public var degreesOfFreedom: Int? { test?.degreesOfFreedom }
}

/// Picks the winner of an experiment from its arms' counts (docs/experiments.md).
public enum WinnerTest {
    /// What to send when the test finds no significant difference.
    public enum IfNoWinner: String, Sendable, Hashable, Codable, CaseIterable {
        /// The arm with the highest observed rate (the first listed among equals).
        case best
        /// The arm listed first.
        case first
        /// No winner: nothing more is sent.
        case stop
    }

    /// Counts or settings the test cannot use.
    public enum InputError: Error, Sendable, Hashable, CustomStringConvertible {
        /// No arms at all.
        case noArms
        /// Two arms share an id.
        case duplicateArm(String)
        /// A negative count.
        case negativeCount(arm: String)
        /// More successes than sends.
        case successesExceedSent(arm: String, successes: Int, sent: Int)
        /// A confidence outside (0, 1).
        case confidenceOutOfRange(Double)

        /// A readable account of the problem, naming the arm or setting.
        public var description: String {
            switch self {
            case .noArms: return "winner test: no arms to compare"
            case .duplicateArm(let id): return "winner test: arm '\(id)' is listed twice"
            case .negativeCount(let id): return "winner test: arm '\(id)' has a negative count"
            case .successesExceedSent(let id, let s, let n):
                return "winner test: arm '\(id)' has \(s) successes but only \(n) sends"
            case .confidenceOutOfRange(let c):
                return "winner test: confidence must be between 0 and 1 exclusive (0.95 for 95%), got \(c)"
            }
        }
    }

    /// Decides the winner of `arms` (listed order matters for `first` and for ties).
    ///
    /// Arms that sent nothing are left out of the test and cannot win it; two remaining arms are compared
    /// with the pooled z-test, more with the 2×k chi-square test. When the test is significant the arm
    /// with the highest rate wins; otherwise, or when no test can be run, `ifNoWinner` decides.
    public static func decide(
        arms: [ArmStats], confidence: Double, ifNoWinner: IfNoWinner
    ) throws(InputError) -> WinnerDecision {
        try validate(arms: arms, confidence: confidence)
        let alpha = 1 - confidence
        let tested = arms.filter { $0.sent > 0 }
        let result = runTest(tested)
        let test = try? result.get()
        var decision = WinnerDecision(
            winner: nil, significant: false, arms: arms, test: test, confidence: confidence, reason: "")
        if let test, test.pValue < alpha, let top = highestRate(tested) {
            decision.significant = true
            decision.winner = top.id
            decision.reason = WinnerReason.significant(winner: top, tested: tested, test: test, alpha: alpha)
            return decision
        }
        let fallback: ArmStats?
        switch ifNoWinner {
        case .best: fallback = highestRate(tested) ?? arms[0]
        case .first: fallback = arms[0]
        case .stop: fallback = nil
        }
        decision.winner = fallback?.id
        let why: String
        switch result {
        case .success(let test): why = WinnerReason.notSignificant(tested: tested, test: test, alpha: alpha)
        case .failure(let unavailable): why = WinnerReason.untestable(unavailable, arms: arms)
        }
        decision.reason = why + "; " + WinnerReason.fallback(ifNoWinner, winner: fallback)
        return decision
    }

    /// The z-test for two arms, the chi-square test for more, or why neither can run.
    static func runTest(_ tested: [ArmStats]) -> Result<ProportionTestResult, ProportionTest.Unavailable> {
        do throws(ProportionTest.Unavailable) {
            if tested.count == 2 { return .success(try ProportionTest.zTest(tested[0], tested[1])) }
            return .success(try ProportionTest.chiSquare(tested))
        } catch {
            return .failure(error)
        }
    }

    /// The arm with the highest rate, the first listed among equals; nil when no arm sent anything.
    static func highestRate(_ arms: [ArmStats]) -> ArmStats? {
        var best: ArmStats?
        for arm in arms {
            guard let rate = arm.rate else { continue }
            if let current = best?.rate, current >= rate { continue }
            best = arm
        }
        return best
    }

    private static func validate(arms: [ArmStats], confidence: Double) throws(InputError) {
        guard !arms.isEmpty else { throw .noArms }
        guard confidence > 0, confidence < 1 else { throw .confidenceOutOfRange(confidence) }
        var seen: Set<String> = []
        for arm in arms {
            guard seen.insert(arm.id).inserted else { throw .duplicateArm(arm.id) }
            guard arm.sent >= 0, arm.successes >= 0 else { throw .negativeCount(arm: arm.id) }
            guard arm.successes <= arm.sent else {
                throw .successesExceedSent(arm: arm.id, successes: arm.successes, sent: arm.sent)
            }
        }
    }
}
