import HeraldCore

/// What `herald logs` narrows the ledger to; a nil field matches every row.
public struct LedgerFilter: Sendable, Hashable {
    /// The campaign id.
    public var campaign: String?
    /// The user id.
    public var user: String?
    /// The current status (a window) or the status changed to (followed changes).
    public var status: LedgerStatus?
    /// Rows last changed at or after this time, epoch seconds; the window only (followed changes are all new).
    public var since: Int64?

    /// A filter; no argument matches everything.
    public init(
        campaign: String? = nil, user: String? = nil, status: LedgerStatus? = nil, since: Int64? = nil
    ) {
        self.campaign = campaign
        self.user = user
        self.status = status
        self.since = since
    }
}

/// One status change joined to its ledger row, as `herald logs --follow` prints it.
public struct LedgerChange: Sendable, Hashable {
    /// The history row's id, for display (`history_id`); it is not the follow cursor (see `LedgerPage.cursor`),
    /// and on a backend with concurrent writers it need not grow in commit order.
    public var sequence: Int64
    /// The change.
    public var transition: LedgerTransition
    /// Delivery attempts as of this change: the row's count less the moves to `sending` made after it.
    public var attempts: Int
    /// The row as it is now (it may have moved on since this change).
    public var entry: LedgerEntry

    /// A change (public so that ledgers in other modules can return it).
    public init(sequence: Int64, transition: LedgerTransition, attempts: Int, entry: LedgerEntry) {
        self.sequence = sequence
        self.transition = transition
        self.attempts = attempts
        self.entry = entry
    }
}

/// Ledger rows or changes, and the opaque cursor up to which they account for the ledger.
public struct LedgerPage<Item: Sendable & Hashable>: Sendable, Hashable {
    /// The rows or changes, oldest first.
    public var items: [Item]
    /// Pass to `changes(after:_:limit:)` to get what happened after this page. Opaque: only ever pass it back to
    /// the ledger that returned it; do not compare it with `LedgerChange.sequence` or do arithmetic on it
    /// (SQLite: a history id; PostgreSQL: a transaction id).
    public var cursor: Int64

    /// A page (public so that ledgers in other modules can return it).
    public init(items: [Item], cursor: Int64) {
        self.items = items
        self.cursor = cursor
    }
}
