import GRDB
import HeraldCore
import HeraldLedger

/// Winner tests and rollouts on SQLite (docs/experiments.md).
extension SQLiteLedger: ExperimentLedger {
    static func registerExperiments(_ m: inout DatabaseMigrator) {
        m.registerMigration("experiments-v1") { db in
            // The row whose unsubscribe link was used: the rollout guardrail's unsubscribe rate.
            try db.execute(sql: "ALTER TABLE ledger ADD COLUMN unsubscribed_at INTEGER")
        }
    }

    public func occurrences(campaign: String, prefix: String) async throws -> [OccurrenceRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: """
                    SELECT campaign, occurrence, start, status, decisions, detail FROM occurrences
                    WHERE campaign = ? AND substr(occurrence, 1, ?) = ? ORDER BY start, occurrence
                    """, arguments: [campaign, prefix.count, prefix]
            ).map {
                OccurrenceRecord(campaign: $0[0], occurrence: $0[1], start: $0[2], status: OccurrenceStatus(stored: $0[3]),
                                 decisions: $0[4], detail: $0[5])
            }
        }
    }

    public func armCounts(campaign: String, occurrences: [String]?, clicks: Bool) async throws
        -> [String: (sent: Int, hits: Int)]
    {
        try await pool.read { db in
            var out: [String: (sent: Int, hits: Int)] = [:]
            let hit = clicks ? "clicked_at" : "opened_at"
            let stmt = try db.cachedStatement(
                sql: """
                    SELECT coalesce(variant, ''), count(*), count(\(hit)) FROM ledger
                    WHERE campaign = ?1 AND (?2 IS NULL OR occurrence = ?2) AND sent_at IS NOT NULL GROUP BY 1
                    """)
            for o in occurrences.map({ $0.map(Optional.some) }) ?? [nil] {
                for r in try Row.fetchAll(stmt, arguments: [campaign, o]) {
                    let v: String = r[0]
                    let prior = out[v] ?? (0, 0)
                    out[v] = (prior.sent + (r[1] as Int), prior.hits + (r[2] as Int))
                }
            }
            return out
        }
    }

    public func assignedVariants(campaign: String, users: [String]) async throws -> [String: String] {
        guard !users.isEmpty else { return [:] }
        return try await pool.read { db in
            var out: [String: String] = [:]
            let stmt = try db.cachedStatement(
                sql: "SELECT variant FROM ledger WHERE campaign = ? AND user = ? AND variant IS NOT NULL ORDER BY id LIMIT 1")
            for user in Set(users) {
                if let v = try String.fetchOne(stmt, arguments: [campaign, user]) { out[user] = v }
            }
            return out
        }
    }

    public func rolloutCounts(campaign: String) async throws -> RolloutCounts {
        try await pool.read { db in
            var c = RolloutCounts()
            for r in try Row.fetchAll(
                db, sql: "SELECT status, count(*), count(unsubscribed_at) FROM ledger WHERE campaign = ? GROUP BY status",
                arguments: [campaign])
            {
                c.add(LedgerStatus(rawValue: r[0]), rows: r[1], unsubscribed: r[2])
            }
            return c
        }
    }

    public func markUnsubscribed(key: String, at: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE ledger SET unsubscribed_at = ? WHERE idempotency_key = ? AND unsubscribed_at IS NULL",
                arguments: [at, key])
            return db.changesCount > 0
        }
    }
}
