import HeraldCore
import HeraldLedger

import PostgresNIO

extension PostgresLedger {
    /// Sets `opened_at` the first time; false when there is no such row or it was already opened.
    public func markOpened(key: String, at: Int64) async throws -> Bool {
        try await write("mark opened") { conn in
            try await self.rows(
                "UPDATE ledger SET opened_at = \(at) WHERE idempotency_key = \(key) AND opened_at IS NULL RETURNING 1",
                conn
            ).count > 0
        }
    }

    /// Sets `clicked_at` the first time, and `opened_at` when the open pixel was blocked; false when there is
    /// no such row or it was already clicked.
    public func markClicked(key: String, at: Int64) async throws -> Bool {
        try await write("mark clicked") { conn in
            try await self.rows(
                """
                UPDATE ledger SET clicked_at = \(at), opened_at = coalesce(opened_at, \(at))
                WHERE idempotency_key = \(key) AND clicked_at IS NULL RETURNING 1
                """, conn
            ).count > 0
        }
    }

    /// The idempotency key of the row a provider knows by `providerMessageID`, or nil.
    public func key(providerMessageID: String) async throws -> String? {
        try await read("find provider message") { conn in
            try await self.scalar(
                String.self,
                """
                SELECT idempotency_key FROM ledger WHERE provider_message_id = \(providerMessageID)
                ORDER BY id DESC LIMIT 1
                """, conn)
        }
    }

    /// Applies a delivery report: a row in `sending` or `sent` moves to the outcome's final status, with the
    /// reason `dlr:<outcome>` on the row and in its history; false (nothing changes) for any other row, so a
    /// repeated, late or forged report can never put a row back in the send queue (as `SQLiteLedger`). The row
    /// is locked first, so a concurrent `complete` either ran before (the row is `sent`) or sees the report.
    public func recordDelivery(key: String, outcome: DeliveryOutcome, error: String?, at: Int64) async throws
        -> Bool
    {
        try await write("record delivery") { conn in
            guard
                let row = try await self.rows(
                    "SELECT id, status FROM ledger WHERE idempotency_key = \(key) FOR UPDATE", conn
                ).first
            else { return false }
            let (id, status) = try row.decode((Int64, String).self)
            guard let from = LedgerStatus(rawValue: status), DeliveryOutcome.movableStatuses.contains(from)
            else { return false }
            let to = outcome.status.rawValue
            try await conn.query(
                """
                WITH moved AS (
                  UPDATE ledger SET status = \(to), reason = \(outcome.reason),
                    error = coalesce(\(error)::text, error), updated_at = \(at)
                  WHERE id = \(id) AND status IN ('sending', 'sent') RETURNING id)
                INSERT INTO ledger_history(ledger_id, from_status, to_status, reason, at)
                SELECT id, \(status), \(to), \(outcome.reason), \(at) FROM moved
                """, logger: self.logger)
            return true
        }
    }

    /// Rows filtered by campaign, user and status, newest first.
    public func entries(campaign: String?, user: String?, status: LedgerStatus?, limit: Int) async throws
        -> [LedgerEntry]
    {
        try await read("read entries", ifMissing: []) { conn in
            try Self.entries(
                try await self.rows(
                    """
                    SELECT \(unescaped: Self.columns) FROM ledger
                    WHERE (\(campaign)::text IS NULL OR campaign = \(campaign)::text)
                      AND (\(user)::text IS NULL OR "user" = \(user)::text)
                      AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue)::text)
                    ORDER BY id DESC LIMIT \(limit < 0 ? nil : Int64(limit))::bigint
                    """, conn))
        }
    }
}
