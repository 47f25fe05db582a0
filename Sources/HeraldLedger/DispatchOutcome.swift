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
    /// More for the history entry only: each device's result of a push.
    public var detail: String?

    /// An outcome.
    public init(
        key: String, status: LedgerStatus, reason: String? = nil, error: String? = nil,
        providerMessageID: String? = nil, retryAt: Int64? = nil, detail: String? = nil
    ) {
        self.detail = detail
        self.key = key
        self.status = status
        self.reason = reason
        self.error = error
        self.providerMessageID = providerMessageID
        self.retryAt = retryAt
    }

    /// The history entry's note: the reason (else the error), then the detail.
    public var historyNote: String? {
        let parts = [reason ?? error, detail].compactMap { $0 }.filter { !$0.isEmpty }
        return parts.isEmpty ? nil : parts.joined(separator: " — ")
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
    /// What became of it.
    public var status: OccurrenceStatus
    /// Decisions recorded.
    public var decisions: Int
    /// A human note (why it was missed).
    public var detail: String?

    /// A record.
    public init(
        campaign: String, occurrence: String, start: Int64, status: OccurrenceStatus, decisions: Int = 0,
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

extension OccurrenceRecord {
    /// The occurrence id of the record that holds the moment the daemon first saw a campaign active.
    public static let activationID = "activated"

    /// The record of the moment a daemon first saw `campaign` active.
    public static func activation(campaign: String, at start: Int64, detail: String? = nil) -> OccurrenceRecord {
        OccurrenceRecord(campaign: campaign, occurrence: activationID, start: start, status: .activated, detail: detail)
    }
}

/// What became of a campaign occurrence (the stored value is the raw value).
public enum OccurrenceStatus: String, Sendable, Hashable, CaseIterable {
    /// Its decisions are recorded.
    case planned
    /// Its time passed while no daemon ran (or it could not be planned): nothing was sent.
    case missed
    /// Not an occurrence: the moment the daemon first saw the campaign active (`OccurrenceRecord.activationID`).
    case activated
    /// A journey's trigger fired and its audience entered (docs/journeys.md); told apart from the `planned`
    /// records its message steps write, so that only fires count when the next fire is due.
    case fired

    /// The status a stored value names; a value no case names (written by a newer Herald) reads as `planned`,
    /// which holds the occurrence as done and never plans it again.
    public init(stored: String) { self = OccurrenceStatus(rawValue: stored) ?? .planned }
}
