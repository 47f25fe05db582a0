import GRDB
import HeraldCore
import HeraldLedger

extension SQLiteLedger {
    /// Sets `opened_at` the first time; false when there is no such row or it was already opened.
    public func markOpened(key: String, at: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE ledger SET opened_at = ? WHERE idempotency_key = ? AND opened_at IS NULL",
                arguments: [at, key])
            return db.changesCount > 0
        }
    }

    /// Sets `clicked_at` the first time, and `opened_at` when the open pixel was blocked; false when
    /// there is no such row or it was already clicked.
    public func markClicked(key: String, at: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE ledger SET clicked_at = ?1, opened_at = coalesce(opened_at, ?1)
                    WHERE idempotency_key = ?2 AND clicked_at IS NULL
                    """, arguments: [at, key])
            return db.changesCount > 0
        }
    }

    /// The idempotency key of the row a provider knows by `providerMessageID`, or nil.
    public func key(providerMessageID: String) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(
                db,
                sql:
                    "SELECT idempotency_key FROM ledger WHERE provider_message_id = ? ORDER BY id DESC LIMIT 1",
                arguments: [providerMessageID])
        }
    }

    /// Applies a delivery report: a row in `sending` or `sent` moves to the outcome's final status, with the
    /// reason `dlr:<outcome>` on the row and in its history; false (nothing changes) for any other row, so a
    /// repeated, late or forged report can never put a row back in the send queue. A row still `sending` keeps
    /// its lease owner, so the dispatcher's own outcome can still add `sent_at` (see `complete`).
    public func recordDelivery(key: String, outcome: DeliveryOutcome, error: String?, at: Int64) async throws
        -> Bool
    {
        try await pool.write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT id, status FROM ledger WHERE idempotency_key = ?", arguments: [key]),
                let from = LedgerStatus(rawValue: row[1]), DeliveryOutcome.movableStatuses.contains(from)
            else { return false }
            let id: Int64 = row[0]
            try db.execute(
                sql: """
                    UPDATE ledger SET status = ?, reason = ?, error = coalesce(?, error), updated_at = ?
                    WHERE id = ? AND status IN ('sending', 'sent')
                    """,
                arguments: [outcome.status.rawValue, outcome.reason, error, at, id])
            try db.execute(
                sql:
                    "INSERT INTO ledger_history(ledger_id, from_status, to_status, reason, at) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, from.rawValue, outcome.status.rawValue, outcome.reason, at])
            return true
        }
    }

    /// Rows filtered by campaign, user and status, newest first.
    public func entries(campaign: String?, user: String?, status: LedgerStatus?, limit: Int) async throws
        -> [LedgerEntry]
    {
        try await pool.read { db in
            guard try self.exists(db) else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.columns) FROM ledger WHERE (?1 IS NULL OR campaign = ?1) AND (?2 IS NULL OR user = ?2)
                      AND (?3 IS NULL OR status = ?3)
                    ORDER BY id DESC LIMIT ?4
                    """, arguments: [campaign, user, status?.rawValue, limit]
            ).map(Self.entry)
        }
    }
}
