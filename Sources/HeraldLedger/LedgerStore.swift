import HeraldCore

/// A ledger row's status (docs/ledger.md).
public enum LedgerStatus: String, Sendable, Hashable, CaseIterable {
    /// Decided, not yet queued / queued for `scheduled_at` / claimed by a dispatcher / accepted by the provider.
    case planned, scheduled, sending, sent
    /// Delivered / failed (may retry) / bounced / given up after retries.
    case delivered, failed, bounced, dead
    /// Not sent for `reason` / in the holdout / cancelled by an event / its window passed.
    case suppressed, holdout, cancelled, expired

    /// True for statuses that are (or will be) a message to the user, so caps count them.
    public var countsAsSend: Bool {
        switch self {
        case .planned, .scheduled, .sending, .sent, .delivered, .bounced: true
        case .failed, .dead, .suppressed, .holdout, .cancelled, .expired: false
        }
    }
}

/// One ledger row: one decision for (campaign, occurrence, user, step).
public struct LedgerEntry: Sendable, Hashable {
    /// The row id (nil before insertion).
    public var id: Int64?
    /// `campaign/occurrence/user/step`, unique.
    public var idempotencyKey: String
    /// The campaign id.
    public var campaign: String
    /// The campaign's topic (caps per topic read it).
    public var topic: String?
    /// True for transactional campaigns (never counted by global caps).
    public var transactional: Bool
    /// The variant, if any.
    public var variant: String?
    /// The user id.
    public var user: String
    /// The channel, if one was chosen.
    public var channel: ChannelKind?
    /// The address, stored as given; display it with `ContactValidator.mask`.
    public var address: String?
    /// The status.
    public var status: LedgerStatus
    /// The machine-readable reason (`cap:any/7d`, …), if any.
    public var reason: String?
    /// When the send is (or was) due, epoch seconds.
    public var scheduledAt: Int64?
    /// Delivery attempts so far.
    public var attempts: Int
    /// The provider's message id once accepted.
    public var providerMessageID: String?
    /// The last delivery error.
    public var error: String?
    /// Epoch seconds.
    public var createdAt: Int64
    /// Epoch seconds.
    public var updatedAt: Int64
    /// The occurrence id (part of the key), when known.
    public var occurrence: String?
    /// When the trigger happened (the occurrence's start; the event's time for event campaigns), epoch seconds.
    public var triggerAt: Int64?
    /// The end of the delivery window, epoch seconds: a send not made by then is `expired`.
    public var windowEnd: Int64?
    /// When the provider accepted the message, epoch seconds.
    public var sentAt: Int64?
    /// The first open / click recorded by the tracking links, epoch seconds.
    public var openedAt: Int64?
    /// See `openedAt`.
    public var clickedAt: Int64?

    /// A row from its parts (the store's reads; tests).
    public init(
        idempotencyKey: String, campaign: String, user: String, status: LedgerStatus,
        channel: ChannelKind? = nil,
        scheduledAt: Int64? = nil, createdAt: Int64, topic: String? = nil, transactional: Bool = false
    ) {
        id = nil
        self.idempotencyKey = idempotencyKey
        self.campaign = campaign
        self.topic = topic
        self.transactional = transactional
        variant = nil
        self.user = user
        self.channel = channel
        address = nil
        self.status = status
        reason = nil
        self.scheduledAt = scheduledAt
        attempts = 0
        providerMessageID = nil
        error = nil
        self.createdAt = createdAt
        updatedAt = createdAt
    }

    /// A new row for `decision` of `campaign`, written at `at`: `scheduled` for sends, else `suppressed`/`holdout`.
    /// `trigger` is when the occurrence started (defaults to nothing known); the window ends `within` after it.
    public init(decision: Decision, campaign: Campaign, at: Int64, step: Int = 1, trigger: Int64? = nil) {
        id = nil
        idempotencyKey = decision.idempotencyKey(step: step)
        self.campaign = campaign.id
        topic = campaign.topic
        transactional = campaign.transactional
        variant = decision.variant
        user = decision.user
        channel = decision.channel
        address = decision.address
        switch decision.outcome {
        case .send: status = .scheduled
        case .suppressed: status = .suppressed
        case .holdout: status = .holdout
        }
        reason = decision.reason
        scheduledAt = decision.sendAt
        attempts = 0
        providerMessageID = nil
        error = nil
        createdAt = at
        updatedAt = at
        occurrence = decision.occurrence
        triggerAt = trigger
        windowEnd = trigger.map { $0 + campaign.sendTime.within }
    }

    /// This row as the caps see it, when it counts as a send.
    public var sendRecord: SendRecord? {
        guard status.countsAsSend, let channel, let at = scheduledAt else { return nil }
        return SendRecord(
            at: at, channel: channel, topic: topic, campaign: campaign, transactional: transactional)
    }
}

/// One status change in the append-only history.
public struct LedgerTransition: Sendable, Hashable {
    /// The row's idempotency key.
    public var idempotencyKey: String
    /// The previous status (nil for the row's creation).
    public var from: LedgerStatus?
    /// The new status.
    public var to: LedgerStatus
    /// The reason given with the change.
    public var reason: String?
    /// Epoch seconds.
    public var at: Int64

    /// A transition.
    public init(idempotencyKey: String, from: LedgerStatus?, to: LedgerStatus, reason: String?, at: Int64) {
        self.idempotencyKey = idempotencyKey
        self.from = from
        self.to = to
        self.reason = reason
        self.at = at
    }
}

/// The send log (docs/ledger.md): decisions keyed by idempotency key, with an append-only status history.
public protocol LedgerStore: Sendable {
    /// Inserts rows whose key is new (existing keys are left untouched); returns how many were inserted.
    func record(_ entries: [LedgerEntry]) async throws -> Int
    /// Moves a row to `status`, appending to its history; false when the key is unknown.
    func updateStatus(
        key: String, to status: LedgerStatus, reason: String?, error: String?, providerMessageID: String?,
        at: Int64
    ) async throws -> Bool
    /// The row with this key.
    func entry(key: String) async throws -> LedgerEntry?
    /// Rows filtered by campaign and user, newest first.
    func entries(campaign: String?, user: String?, limit: Int) async throws -> [LedgerEntry]
    /// A row's status changes, oldest first.
    func history(key: String) async throws -> [LedgerTransition]
    /// Every user's sends (statuses that count as a send) scheduled at or after `since`, for the caps.
    func sendHistory(since: Int64) async throws -> [String: [SendRecord]]
}
