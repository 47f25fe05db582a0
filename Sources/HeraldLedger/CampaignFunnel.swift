import HeraldCore

/// One campaign's funnel over its ledger rows (`herald stats`). Stage counts are rows, one per user and
/// occurrence; the experiment arms count users.
public struct CampaignFunnel: Sendable, Hashable {
    /// The campaign id.
    public var campaign: String
    /// Rows decided: every row, whatever its status.
    public var decisions = 0
    /// Rows by current status; each row is in exactly one.
    public var statuses: [LedgerStatus: Int] = [:]
    /// Suppressed rows by machine-readable reason.
    public var suppressedReasons: [String: Int] = [:]
    /// Rows the provider accepted: status `sent`, `delivered` or `bounced`, or any row with a `sent_at`.
    public var sent = 0
    /// Rows with a recorded open.
    public var opened = 0
    /// Rows with a recorded click.
    public var clicked = 0
    /// Sent rows whose user had the conversion event in the window after `sent_at`; nil without a goal.
    public var converted: Int?
    /// The holdout first, then the variants by id; empty when no row has a holdout or a variant.
    public var arms: [ExperimentArm] = []

    /// An empty funnel.
    public init(campaign: String) { self.campaign = campaign }

    /// Rows currently in `status`.
    public func count(_ status: LedgerStatus) -> Int { statuses[status] ?? 0 }

    /// Rows not yet resolved: planned, scheduled or being sent.
    public var pending: Int { count(.planned) + count(.scheduled) + count(.sending) }
}

/// One arm of a campaign's experiment: the holdout, or the users assigned one variant (intent to treat:
/// assignment happens before consent, contact and caps, so a variant counts its suppressed users too).
public struct ExperimentArm: Sendable, Hashable {
    /// True for the holdout (the control group, never sent).
    public var isHoldout: Bool
    /// The variant id; nil for the holdout or a campaign without variants.
    public var variant: String?
    /// Distinct users in the arm.
    public var users: Int
    /// Users who converted (nil without a conversion goal).
    public var converted: Int?

    /// An arm.
    public init(isHoldout: Bool, variant: String?, users: Int, converted: Int?) {
        self.isHoldout = isHoldout
        self.variant = variant
        self.users = users
        self.converted = converted
    }

    /// The conversion rate, nil without a goal or users.
    public var rate: Double? {
        guard let converted, users > 0 else { return nil }
        return Double(converted) / Double(users)
    }
}
