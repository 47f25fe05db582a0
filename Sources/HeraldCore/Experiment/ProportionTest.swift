import Foundation

/// One arm of an experiment: how many messages it sent and how many of them met the metric.
public struct ArmStats: Sendable, Hashable, Codable {
    /// The arm (variant) id.
    public var id: String
    /// Messages sent by this arm.
    public var sent: Int
    /// Sent messages that met the metric (opened, clicked or converted).
    public var successes: Int

    /// An arm's counts.
    public init(id: String, sent: Int, successes: Int) {
        self.id = id
        self.sent = sent
        self.successes = successes
    }

    /// successes / sent; nil for an arm that sent nothing.
    public var rate: Double? { sent > 0 ? Double(successes) / Double(sent) : nil }
}

/// The result of a test of equal proportions.
public struct ProportionTestResult: Sendable, Hashable, Codable {
    /// Which test produced it.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The pooled two-proportion z-test (two arms).
        case zTest = "z"
        /// Pearson's chi-square test of homogeneity on the 2×k table (three arms or more).
        case chiSquare = "chi2"
    }

    /// The test.
    public var kind: Kind
    /// z for the z-test (second arm's rate minus the first's, over the pooled standard error); χ² otherwise.
    public var statistic: Double
    /// The two-sided p-value (the upper tail for χ²).
    public var pValue: Double
    /// Degrees of freedom: arms − 1 (1 for the z-test, whose z² is the 2×2 χ²).
    public var degreesOfFreedom: Int
}

/// Tests of "every arm has the same rate" on sent/success counts (docs/experiments.md).
public enum ProportionTest {
    /// Why a test cannot be computed.
    public enum Unavailable: Error, Sendable, Hashable {
        /// Fewer than two arms sent anything.
        case fewerThanTwoArms
        /// Every sent message met the metric, or none did: the pooled rate is 0 or 1 and the test has no variance.
        case noVariance(pooledRate: Double)
    }

    /// The pooled two-proportion z-test; z is positive when `second` has the higher rate.
    public static func zTest(_ first: ArmStats, _ second: ArmStats) throws(Unavailable)
        -> ProportionTestResult
    {
        guard first.sent > 0, second.sent > 0 else { throw .fewerThanTwoArms }
        let n1 = Double(first.sent)
        let n2 = Double(second.sent)
        let pooled = Double(first.successes + second.successes) / (n1 + n2)
        guard pooled > 0, pooled < 1 else { throw .noVariance(pooledRate: pooled) }
        let se = (pooled * (1 - pooled) * (1 / n1 + 1 / n2)).squareRoot()
        let z = (Double(second.successes) / n2 - Double(first.successes) / n1) / se
        return ProportionTestResult(
            kind: .zTest, statistic: z, pValue: SpecialFunctions.normalTwoSided(z), degreesOfFreedom: 1)
    }

    /// Pearson's chi-square test of homogeneity (no continuity correction) on the 2×k table of
    /// successes and failures; arms that sent nothing must be left out by the caller.
    public static func chiSquare(_ arms: [ArmStats]) throws(Unavailable) -> ProportionTestResult {
        guard arms.count >= 2, arms.allSatisfy({ $0.sent > 0 }) else { throw .fewerThanTwoArms }
        let total = Double(arms.reduce(0) { $0 + $1.sent })
        let successes = Double(arms.reduce(0) { $0 + $1.successes })
        let failures = total - successes
        guard successes > 0, failures > 0 else { throw .noVariance(pooledRate: successes / total) }
        var statistic = 0.0
        for arm in arms {
            let n = Double(arm.sent)
            let expectedSuccesses = successes * n / total
            let expectedFailures = failures * n / total
            let observedSuccesses = Double(arm.successes)
            let observedFailures = n - observedSuccesses
            statistic +=
                (observedSuccesses - expectedSuccesses) * (observedSuccesses - expectedSuccesses)
                / expectedSuccesses
            statistic +=
                (observedFailures - expectedFailures) * (observedFailures - expectedFailures)
                / expectedFailures
        }
        let df = arms.count - 1
        return ProportionTestResult(
            kind: .chiSquare, statistic: statistic,
            pValue: SpecialFunctions.chiSquareSurvival(statistic, degreesOfFreedom: df), degreesOfFreedom: df)
    }
}
