import HeraldCore

/// The audience as the daemon and the CLI read and write it: `AudienceStore` plus the bulk reads that planning
/// and dispatch make. Implemented by `SQLiteStore` and by the PostgreSQL store.
public protocol HeraldAudience: AudienceStore, DeviceStore {
    /// Every user's opt-outs and every suppression entry, in bulk (planning never queries per user).
    /// Users who never opted out are absent (opted in); suppressions map an address or user id to its lists.
    func consentBook() async throws -> (consent: [String: ConsentState], suppressions: [String: [String]])
    /// Profiles, consent, suppressions and the named events of `users` (addresses in `addresses`), in one read:
    /// the dispatcher's fresh look before it sends (never a stale in-memory copy, docs/architecture.md).
    func dispatchFacts(
        users: [String], addresses: [String], eventNames: Set<String>, eventsSince: Int64
    ) async throws -> DispatchFacts
    /// `insertEvents`, also saying which of `batch` (by index) were new: only those trigger event campaigns.
    /// New events named in `awaitingPlanning` (the daemon passes the events its active campaigns trigger) are
    /// recorded as awaiting planning in the same transaction, until `markPlanned` clears them.
    func insertEventsReportingNew(_ batch: [EventRecord], awaitingPlanning: Set<String>) async throws -> (
        result: BatchResult, new: [Int]
    )
    /// Events recorded as awaiting planning, oldest first, at most `limit`: what an API call stored whose
    /// planning never ran (a crash between the two). Events stored any other way (imports) are never here.
    func eventsAwaitingPlanning(limit: Int) async throws -> [EventRecord]
    /// Clears `events` (user, name and time) from the events awaiting planning, once their planning is recorded.
    func markPlanned(_ events: [EventRecord]) async throws
    /// The ids of every user whose phone is `number` (E.164, or as a gateway reports it), in id order.
    func usersWithPhone(_ number: String) async throws -> [String]
}

extension HeraldAudience {
    /// `insertEventsReportingNew` recording nothing as awaiting planning.
    public func insertEventsReportingNew(_ batch: [EventRecord]) async throws -> (result: BatchResult, new: [Int]) {
        try await insertEventsReportingNew(batch, awaitingPlanning: [])
    }
}

/// Users hash into a fixed number of shards (docs/architecture.md). With several daemons on one PostgreSQL
/// database each daemon leases some shards and dispatches only its shards' rows, so one user's sends are
/// decided by one daemon at a time and per-user caps stay exact without cross-node locks.
public enum Shards {
    /// The number of shards. Fixed: it is part of every stored ledger row.
    public static let count = 64

    /// The shard of `user`.
    public static func of(_ user: String) -> Int {
        var h = StableHash()
        h.add(user)
        return Int(h.value % UInt64(count))
    }
}

/// The shards one daemon holds, and until when.
public struct ShardLease: Sendable, Hashable {
    /// The shards held, sorted.
    public var shards: [Int]
    /// When the lease ends unless renewed, epoch seconds (the store's clock).
    public var until: Int64
    /// Daemons currently alive on the store, this one included.
    public var members: Int

    /// A lease.
    public init(shards: [Int], until: Int64, members: Int) {
        self.shards = shards
        self.until = until
        self.members = members
    }

    /// True when this daemon plans scheduled occurrences (it holds shard 0): exactly one daemon at a time.
    public var isPlanner: Bool { shards.first == 0 }
}

/// The ledger as the daemon and the CLI use it: `LedgerStore` plus claiming, occurrences, tracking, queries and
/// shard leases. Implemented by `SQLiteLedger` (one daemon per store: it holds every shard) and by the
/// PostgreSQL ledger (several daemons: claims use `FOR UPDATE SKIP LOCKED`, shards are leased).
public protocol DispatchLedger: LedgerStore, JourneyStore, ControlStore, ExperimentLedger, LedgerOverview {
    /// Claims up to `limit` rows due at `now` for `owner` until `now + lease`: rows `scheduled` or `failed` whose
    /// time has come, and rows left `sending` by a claimer whose lease expired. Each claimed row becomes
    /// `sending` with one more attempt, with its history, atomically: two claimers never hold the same row.
    /// `perChannel` caps how many rows of a channel one claim takes; `shards`, when given, limits the claim to
    /// rows of users in those shards.
    func claimDue(
        now: Int64, limit: Int, owner: String, lease: Int64, perChannel: [ChannelKind: Int], shards: [Int]?
    ) async throws -> [LedgerEntry]
    /// Ends every row lease whose owner is not `owner` and is known to be gone; returns how many.
    @discardableResult func releaseLeases(notOwnedBy owner: String) async throws -> Int
    /// Records what the dispatcher did with rows it claimed as `owner`; rows no longer leased to `owner` are
    /// left alone. Returns how many rows were updated.
    @discardableResult func complete(_ outcomes: [DispatchOutcome], owner: String, at now: Int64) async throws -> Int
    /// Rows waiting to be sent (`scheduled`, `failed`, `sending`) and how many of them are due at `now`.
    func queueDepth(now: Int64) async throws -> (pending: Int, due: Int)
    /// Sends of `users` that went out or are going out now, at or after `since`, except keys in `excluding`.
    func sentHistory(users: [String], since: Int64, excluding: Set<String>) async throws -> [String: [SendRecord]]
    /// The engagement at `now` (see `Engagement`) of `users`, or of every user when nil, from one grouped
    /// query; `goals` holds each campaign's conversion goal. Users without a send in the window are absent.
    func engagement(users: [String]?, now: Int64, goals: [String: Campaign.Conversion]) async throws
        -> [String: Engagement]

    /// The planning record of one occurrence, or nil.
    func occurrence(campaign: String, id: String) async throws -> OccurrenceRecord?
    /// The latest start among a campaign's occurrences with one of `statuses`, or nil.
    func latestOccurrence(campaign: String, statuses: [OccurrenceStatus]) async throws -> Int64?
    /// Records an occurrence's decisions and its planning record in one transaction, once: a second call for the
    /// same occurrence (from any daemon) inserts nothing and returns `fresh == false`.
    func recordOccurrence(
        _ record: OccurrenceRecord, entries: [LedgerEntry], entered: [String], left: [String], at now: Int64
    ) async throws -> (inserted: Int, fresh: Bool)
    /// The users recorded as members of a campaign's audience (for `entered_segment`).
    func members(campaign: String) async throws -> Set<String>

    /// Sets `opened_at` the first time; false when there is no such row or it was already opened.
    func markOpened(key: String, at: Int64) async throws -> Bool
    /// Sets `clicked_at` the first time; false when there is no such row or it was already clicked.
    func markClicked(key: String, at: Int64) async throws -> Bool
    /// The idempotency key of the row the provider knows as `providerMessageID`.
    func key(providerMessageID: String) async throws -> String?
    /// Applies a delivery report to a row; false when nothing changed.
    func recordDelivery(key: String, outcome: DeliveryOutcome, error: String?, at: Int64) async throws -> Bool
    /// Rows filtered by campaign, user and status, newest first.
    func entries(campaign: String?, user: String?, status: LedgerStatus?, limit: Int) async throws -> [LedgerEntry]

    /// The newest `limit` rows matching `filter`, oldest first, with the cursor `changes(after:)` continues from.
    /// The cursor is opaque: its only use is to be passed back to `changes(after:)` of the same ledger (it is not
    /// a `LedgerChange.sequence`, and cursors of different backends are not comparable). Following from it
    /// returns every change committed after the window was read, each once.
    func window(_ filter: LedgerFilter, limit: Int?) async throws -> LedgerPage<LedgerEntry>
    /// Status changes after `cursor` whose row matches `filter`, oldest first (in commit order); never skips a
    /// change committed later with a smaller sequence number. `cursor` is opaque: 0 (the start of the history)
    /// or the `cursor` of an earlier `window` or `changes` page of this ledger; the page's own `cursor` is where
    /// the next call continues. A change is visible once every write transaction that started before it has
    /// ended (a caller sees its own committed writes, after a bounded wait on a busy server).
    func changes(after cursor: Int64, _ filter: LedgerFilter, limit: Int) async throws -> LedgerPage<LedgerChange>
    /// The campaign ids that have ledger rows, sorted.
    func campaigns() async throws -> [String]
    /// The funnel of `campaign` (every campaign with rows when nil), sorted by campaign.
    func funnels(campaign: String?, goals: [String: Campaign.Conversion]) async throws -> [CampaignFunnel]

    /// Renews `owner`'s membership and shard leases until `now + lease`, takes free or expired shards up to a
    /// fair share of the live members, and gives back any beyond it. Returns what `owner` now holds.
    func balanceShards(owner: String, now: Int64, lease: Int64) async throws -> ShardLease
    /// Gives back every shard `owner` holds and ends its membership (a clean shutdown).
    func releaseShards(owner: String) async throws
}

extension DispatchLedger {
    /// `claimDue` over every shard.
    public func claimDue(
        now: Int64, limit: Int, owner: String, lease: Int64, perChannel: [ChannelKind: Int] = [:]
    ) async throws -> [LedgerEntry] {
        try await claimDue(now: now, limit: limit, owner: owner, lease: lease, perChannel: perChannel, shards: nil)
    }

    /// `recordOccurrence` without segment-membership changes.
    public func recordOccurrence(_ record: OccurrenceRecord, entries: [LedgerEntry], at now: Int64) async throws
        -> (inserted: Int, fresh: Bool)
    {
        try await recordOccurrence(record, entries: entries, entered: [], left: [], at: now)
    }
}
