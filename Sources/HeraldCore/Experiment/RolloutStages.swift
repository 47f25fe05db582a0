import Foundation

/// The independent, deterministic draws that place a user in an experiment (docs/experiments.md).
///
/// The same hash as holdout and variant assignment (`AssignmentHash` of campaign id and user id), with a
/// salt of its own for each purpose: were stages cut from the variant draw, a 5 % first stage would hold
/// only the first variant's users.
public enum ExperimentBucket {
    /// The user's position in [0, 1) for the rollout stages of `campaign`.
    public static func rollout(campaign: String, user: String) -> Double {
        AssignmentHash.unit("rollout", campaign, user)
    }

    /// The user's position in [0, 1) for the winner test's share of `campaign` (in the test when below it).
    public static func winnerTest(campaign: String, user: String) -> Double {
        AssignmentHash.unit("winner-test", campaign, user)
    }
}

/// Staged release: cumulative shares of the audience, released one stage after another.
///
/// A user belongs to the first stage whose cumulative share is above their bucket, so a user released in
/// one stage stays released when the rollout widens (and when the stages are edited to larger shares).
public struct RolloutStages: Sendable, Hashable {
    /// Why a list of stages is unusable; `index` is the 0-based position in `rollout.stages`.
    public enum Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        /// No stages.
        case empty
        /// A share outside (0 %, 100 %].
        case outOfRange(index: Int, percent: Double)
        /// A share not larger than the one before it.
        case notIncreasing(index: Int, percent: Double, previous: Double)

        /// The problem, naming the stage.
        public var description: String {
            switch self {
            case .empty:
                return "rollout.stages: at least one stage is needed"
            case .outOfRange(let i, let p):
                return
                    "rollout.stages[\(i)]: \(RolloutStages.percentText(p)) is not between 0% (exclusive) and 100%"
            case .notIncreasing(let i, let p, let previous):
                return
                    "rollout.stages[\(i)]: \(RolloutStages.percentText(p)) must be larger than the stage before "
                    + "it (\(RolloutStages.percentText(previous))): the shares are cumulative"
            }
        }
    }

    /// Cumulative shares as fractions, strictly increasing, the last at most 1.
    public let shares: [Double]

    /// Stages from cumulative percentages, e.g. [5, 25, 100].
    public init(percents: [Double]) throws(Invalid) {
        guard !percents.isEmpty else { throw .empty }
        for (i, p) in percents.enumerated() {
            guard p.isFinite, p > 0, p <= 100 else { throw .outOfRange(index: i, percent: p) }
            if i > 0, p <= percents[i - 1] {
                throw .notIncreasing(index: i, percent: p, previous: percents[i - 1])
            }
        }
        shares = percents.map { $0 / 100 }
    }

    /// The number of stages.
    public var count: Int { shares.count }

    /// The 0-based stage of a user whose bucket is `bucket` (from `ExperimentBucket.rollout`); nil when the
    /// last stage stops short of 100 % and the user is beyond it.
    public func stage(forUserBucket bucket: Double) -> Int? {
        shares.firstIndex { bucket < $0 }
    }

    /// True when a user at `bucket` may be planned once `released` stages (1 = the first) are out.
    public func isReleased(bucket: Double, released: Int) -> Bool {
        guard released > 0 else { return false }
        return bucket < shares[min(released, count) - 1]
    }

    /// The part of the audience, as fractions, that `stage` adds: (lower, upper).
    public func range(ofStage stage: Int) -> (lower: Double, upper: Double) {
        (stage == 0 ? 0 : shares[stage - 1], shares[stage])
    }

    /// "stage 2 of 3 (5%–25%)".
    public func label(ofStage stage: Int) -> String {
        let r = range(ofStage: stage)
        return
            "stage \(stage + 1) of \(count) (\(Self.percentText(r.lower * 100))–\(Self.percentText(r.upper * 100)))"
    }

    static func percentText(_ percent: Double) -> String { String(format: "%g%%", percent) }
}
