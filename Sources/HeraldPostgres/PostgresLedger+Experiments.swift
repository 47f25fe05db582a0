import HeraldCore
import HeraldLedger

import PostgresNIO

/// Winner tests and rollouts on PostgreSQL (docs/experiments.md).
extension PostgresLedger: ExperimentLedger {
    public func occurrences(campaign: String, prefix: String) async throws -> [OccurrenceRecord] {
        try await read("read occurrences") { conn in
            var out: [OccurrenceRecord] = []
            for try await (c, o, start, status, decisions, detail) in try await conn.query(
                """
                SELECT campaign, occurrence, start, status, decisions, detail FROM occurrences
                WHERE campaign = \(campaign) AND left(occurrence, \(prefix.count)) = \(prefix)
                ORDER BY start, occurrence
                """, logger: logger
            ).decode((String, String, Int64, String, Int, String?).self) {
                out.append(OccurrenceRecord(campaign: c, occurrence: o, start: start, status: OccurrenceStatus(stored: status),
                                            decisions: decisions, detail: detail))
            }
            return out
        }
    }

    public func armCounts(campaign: String, occurrences: [String]?, clicks: Bool) async throws
        -> [String: (sent: Int, hits: Int)]
    {
        try await read("read arm counts") { conn in
            var out: [String: (sent: Int, hits: Int)] = [:]
            for try await (variant, sent, opened, clicked) in try await conn.query(
                """
                SELECT coalesce(variant, ''), count(*), count(opened_at), count(clicked_at) FROM ledger
                WHERE campaign = \(campaign) AND (\(occurrences == nil) OR occurrence = ANY(\(occurrences ?? [])::text[]))
                  AND sent_at IS NOT NULL
                GROUP BY 1
                """, logger: logger
            ).decode((String, Int64, Int64, Int64).self) {
                out[variant] = (Int(sent), Int(clicks ? clicked : opened))
            }
            return out
        }
    }

    public func assignedVariants(campaign: String, users: [String]) async throws -> [String: String] {
        guard !users.isEmpty else { return [:] }
        return try await read("read assigned variants") { conn in
            var out: [String: String] = [:]
            for try await (user, variant) in try await conn.query(
                """
                SELECT DISTINCT ON ("user") "user", variant FROM ledger
                WHERE campaign = \(campaign) AND "user" = ANY(\(Array(Set(users)))::text[]) AND variant IS NOT NULL
                ORDER BY "user", id
                """, logger: logger
            ).decode((String, String).self) { out[user] = variant }
            return out
        }
    }

    public func rolloutCounts(campaign: String) async throws -> RolloutCounts {
        try await read("read rollout counts") { conn in
            var c = RolloutCounts()
            for try await (status, n64, unsubscribed) in try await conn.query(
                """
                SELECT status, count(*), count(unsubscribed_at) FROM ledger WHERE campaign = \(campaign) GROUP BY status
                """, logger: logger
            ).decode((String, Int64, Int64).self) {
                c.add(LedgerStatus(rawValue: status), rows: Int(n64), unsubscribed: Int(unsubscribed))
            }
            return c
        }
    }

    public func markUnsubscribed(key: String, at: Int64) async throws -> Bool {
        try await write("mark unsubscribed") { conn in
            try await self.rows(
                "UPDATE ledger SET unsubscribed_at = \(at) WHERE idempotency_key = \(key) AND unsubscribed_at IS NULL RETURNING 1",
                conn
            ).count > 0
        }
    }
}
