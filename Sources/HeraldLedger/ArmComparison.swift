/// One arm of a campaign's experiment set against the holdout: its lift with a 95% interval, or why there is
/// none. `herald stats` and the console show the same comparisons.
public struct ArmComparison: Sendable, Hashable {
    /// Why an arm has no lift.
    public enum Note: Sendable, Hashable {
        /// The arm is the holdout: the others are measured against it.
        case baseline
        /// The campaign has no conversion goal, so nothing converts.
        case noGoal
        /// There is no holdout (or it has no conversion count) to compare with.
        case noHoldout
        /// An arm is below `ProportionDifference.minimumGroup` users.
        case tooSmall
    }

    /// The arm.
    public var arm: ExperimentArm
    /// The lift over the holdout with its 95% interval.
    public var lift: ProportionDifference?
    /// Why there is no lift.
    public var note: Note?
}

extension CampaignFunnel {
    /// Every arm in order, each variant compared with the holdout (Newcombe's interval).
    public var armComparisons: [ArmComparison] {
        let holdout = arms.first(where: \.isHoldout)
        return arms.map { arm in
            if arm.isHoldout { return ArmComparison(arm: arm, lift: nil, note: .baseline) }
            guard let converted = arm.converted else { return ArmComparison(arm: arm, lift: nil, note: .noGoal) }
            guard let holdout, let base = holdout.converted else {
                return ArmComparison(arm: arm, lift: nil, note: .noHoldout)
            }
            let lift = ProportionDifference.newcombe(converted, of: arm.users, minus: base, of: holdout.users)
            return ArmComparison(arm: arm, lift: lift, note: lift == nil ? .tooSmall : nil)
        }
    }
}
