import HeraldCore

/// One group of a campaign's ledger rows with the same status (and, for suppressed rows, the same reason):
/// what each backend's funnel query returns, before `CampaignFunnel.assemble` sums it.
public struct FunnelGroup: Sendable, Hashable {
    public var campaign: String
    public var status: String
    /// The suppression reason, for `suppressed` rows only.
    public var reason: String?
    public var rows: Int
    /// Rows the provider accepted (status sent, delivered or bounced, or a `sent_at`).
    public var sent: Int
    public var opened: Int
    public var clicked: Int

    /// A group.
    public init(
        campaign: String, status: String, reason: String?, rows: Int, sent: Int, opened: Int, clicked: Int
    ) {
        self.campaign = campaign
        self.status = status
        self.reason = reason
        self.rows = rows
        self.sent = sent
        self.opened = opened
        self.clicked = clicked
    }
}

/// One experiment arm's counts as a backend reads them (users are distinct; `sentConverted` counts rows).
public struct FunnelArmGroup: Sendable, Hashable {
    public var holdout: Bool
    public var variant: String?
    public var users: Int
    public var convertedUsers: Int
    /// Sent rows whose user converted in the window after the send.
    public var sentConverted: Int

    /// A group.
    public init(holdout: Bool, variant: String?, users: Int, convertedUsers: Int, sentConverted: Int) {
        self.holdout = holdout
        self.variant = variant
        self.users = users
        self.convertedUsers = convertedUsers
        self.sentConverted = sentConverted
    }
}

extension CampaignFunnel {
    /// The SQL condition, over `ledger` aliased `l`, for a row the provider accepted (`CampaignFunnel.sent`);
    /// the same text in both ledgers' dialects.
    public static let sentRowSQL = "(l.status IN ('sent', 'delivered', 'bounced') OR l.sent_at IS NOT NULL)"

    /// The funnels of every campaign in `groups`, keyed by campaign id (arms and conversions not yet added).
    public static func assemble(_ groups: [FunnelGroup]) -> [String: CampaignFunnel] {
        var funnels: [String: CampaignFunnel] = [:]
        for g in groups {
            var f = funnels[g.campaign] ?? CampaignFunnel(campaign: g.campaign)
            f.decisions += g.rows
            if let status = LedgerStatus(rawValue: g.status) { f.statuses[status, default: 0] += g.rows }
            if let reason = g.reason { f.suppressedReasons[reason, default: 0] += g.rows }
            f.sent += g.sent
            f.opened += g.opened
            f.clicked += g.clicked
            funnels[g.campaign] = f
        }
        return funnels
    }

    /// Adds the converted count and, when any row is in the holdout or has a variant, the experiment arms
    /// (holdout first, then variants by id, as the backends order them).
    public mutating func addArms(_ groups: [FunnelArmGroup], goal: Campaign.Conversion?) {
        if goal != nil { converted = groups.reduce(0) { $0 + $1.sentConverted } }
        guard groups.contains(where: { $0.holdout || $0.variant != nil }) else { return }
        arms = groups.map {
            ExperimentArm(
                isHoldout: $0.holdout, variant: $0.variant, users: $0.users,
                converted: goal == nil ? nil : $0.convertedUsers)
        }
    }
}
