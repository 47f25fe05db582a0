import GRDB
import HeraldCore
import HeraldLedger

extension SQLiteLedger: LedgerOverview {
    /// Rows per campaign (an index-only count over `ledger_campaign`), and rows sent since `since`: found
    /// through `ledger_updated`, since a row's `updated_at` is never before its `sent_at`.
    public func campaignActivity(since: Int64) async throws -> [String: CampaignActivity] {
        try await pool.read { db in
            guard try self.readable(db) else { return [:] }
            var out: [String: CampaignActivity] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT campaign, count(*) FROM ledger GROUP BY campaign") {
                out[r[0]] = CampaignActivity(decisions: r[1], recentSends: 0)
            }
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT campaign, count(*) FROM ledger WHERE updated_at >= ? AND sent_at >= ?
                    GROUP BY campaign
                    """, arguments: [since, since])
            {
                out[r[0], default: CampaignActivity(decisions: 0, recentSends: 0)].recentSends = r[1]
            }
            return out
        }
    }

    /// Rows sent or to be sent, by the user's stored zone and quarter-hour of their send time. The ledger and
    /// the audience share one database, so the zone comes from a join, grouped before it leaves SQLite.
    public func sendTimes(campaign: String) async throws -> [SendTimeBucket] {
        try await pool.read { db in
            guard try self.readable(db), try db.tableExists("users") else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT u.timezone, coalesce(l.sent_at, l.scheduled_at) / 900 AS q, count(*)
                    FROM ledger l LEFT JOIN users u ON u.id = l.user
                    WHERE l.campaign = ? AND coalesce(l.sent_at, l.scheduled_at) IS NOT NULL
                      AND (l.sent_at IS NOT NULL OR l.status IN \(Self.sendStatuses))
                    GROUP BY u.timezone, q
                    """, arguments: [campaign]
            ).map { SendTimeBucket(zone: $0[0], quarter: $0[1], count: $0[2]) }
        }
    }

    /// Active instances by step, and step records by step.
    public func journeySteps(journey: String) async throws -> JourneyStepCounts {
        try await pool.read { db in
            guard try db.tableExists("journey_instances") else { return JourneyStepCounts() }
            var counts = JourneyStepCounts()
            for r in try Row.fetchAll(
                db,
                sql: "SELECT step, count(*) FROM journey_instances WHERE journey = ? AND status = 'active' GROUP BY step",
                arguments: [journey])
            {
                counts.at[r[0]] = r[1]
            }
            for r in try Row.fetchAll(
                db, sql: "SELECT step, count(*) FROM journey_steps WHERE journey = ? GROUP BY step",
                arguments: [journey])
            {
                counts.through[r[0]] = r[1]
            }
            return counts
        }
    }

    /// Waiting rows by status, through the partial indexes the claim uses.
    public func queue(now: Int64) async throws -> [LedgerStatus: (waiting: Int, due: Int)] {
        try await pool.read { db in
            guard try self.readable(db) else { return [:] }
            var out: [LedgerStatus: (waiting: Int, due: Int)] = [:]
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT status, count(*), coalesce(sum(scheduled_at <= ?), 0) FROM ledger
                    WHERE status IN ('scheduled', 'failed') GROUP BY status
                    UNION ALL
                    SELECT status, count(*), coalesce(sum(lease_until < ?), 0) FROM ledger
                    WHERE status = 'sending' GROUP BY status
                    """, arguments: [now, now])
            {
                if let s = LedgerStatus(rawValue: r[0]) { out[s] = (waiting: r[1], due: r[2]) }
            }
            return out
        }
    }

    /// The statuses of rows that are, or will be, a send (`LedgerStatus.countsAsSend`) as an SQL list.
    static let sendStatuses =
        "(" + LedgerStatus.allCases.filter(\.countsAsSend).map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"
}
