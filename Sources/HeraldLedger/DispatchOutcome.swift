/// What a dispatcher did with one claimed row.
public struct DispatchOutcome: Sendable, Hashable {
    /// The row's idempotency key.
    public var key: String
    /// The new status: `sent`, `failed` (retried at `retryAt`), `dead`, `suppressed`, `cancelled`, `expired`,
    /// or `scheduled` (handed back unattempted, e.g. on shutdown or an open circuit).
    public var status: LedgerStatus
    /// The machine-readable reason, if any.
    public var reason: String?
    /// The delivery error, if any (never a secret).
    public var error: String?
    /// The provider's message id once accepted.
    public var providerMessageID: String?
    /// For `failed` and `scheduled`: when to try again, epoch seconds.
    public var retryAt: Int64?

    /// An outcome.
    public init(
        key: String, status: LedgerStatus, reason: String? = nil, error: String? = nil,
        providerMessageID: String? = nil, retryAt: Int64? = nil
    ) {
        self.key = key
        self.status = status
        self.reason = reason
        self.error = error
        self.providerMessageID = providerMessageID
        self.retryAt = retryAt
    }
}

/// A campaign occurrence's planning record.
public struct OccurrenceRecord: Sendable, Hashable {
    /// The campaign.
    public var campaign: String
    /// The occurrence id.
    public var occurrence: String
    /// Its start, epoch seconds.
    public var start: Int64
    /// `planned`, `missed` or `activated` (the moment the daemon first saw the campaign).
    public var status: String
    /// Decisions recorded.
    public var decisions: Int
    /// A human note (why it was missed).
    public var detail: String?

    /// A record.
    public init(
        campaign: String, occurrence: String, start: Int64, status: String, decisions: Int = 0,
        detail: String? = nil
    ) {
        self.campaign = campaign
        self.occurrence = occurrence
        self.start = start
        self.status = status
        self.decisions = decisions
        self.detail = detail
    }
}
