import HeraldCore
import HeraldLedger
import PostgresNIO

extension PostgresLedger: LedgerOverview {
    /// Rows per campaign, and rows sent since `since` (found through `ledger_updated`: a row's `updated_at` is
    /// never before its `sent_at`).
    public func campaignActivity(since: Int64) async throws -> [String: CampaignActivity] {
        try await read("count campaign activity", ifMissing: [:]) { conn in
            var out: [String: CampaignActivity] = [:]
            for row in try await self.rows("SELECT campaign, count(*) FROM ledger GROUP BY campaign", conn) {
                let (campaign, n) = try row.decode((String, Int64).self)
                out[campaign] = CampaignActivity(decisions: Int(n), recentSends: 0)
            }
            for row in try await self.rows(
                """
                SELECT campaign, count(*) FROM ledger WHERE updated_at >= \(since) AND sent_at >= \(since)
                GROUP BY campaign
                """, conn)
            {
                let (campaign, n) = try row.decode((String, Int64).self)
                out[campaign, default: CampaignActivity(decisions: 0, recentSends: 0)].recentSends = Int(n)
            }
            return out
        }
    }

    /// Rows sent or to be sent, by the user's stored zone and quarter-hour of their send time (the ledger and
    /// the audience share one database, so the zone comes from a join, grouped on the server).
    public func sendTimes(campaign: String) async throws -> [SendTimeBucket] {
        let statuses = LedgerStatus.allCases.filter(\.countsAsSend).map(\.rawValue)
        return try await read("count send times", ifMissing: []) { conn in
            try await self.rows(
                """
                SELECT u.timezone, coalesce(l.sent_at, l.scheduled_at) / 900 AS q, count(*)
                FROM ledger l LEFT JOIN users u ON u.id = l."user"
                WHERE l.campaign = \(campaign) AND coalesce(l.sent_at, l.scheduled_at) IS NOT NULL
                  AND (l.sent_at IS NOT NULL OR l.status = ANY(\(statuses)::text[]))
                GROUP BY u.timezone, q
                """, conn
            ).map { row in
                let (zone, quarter, n) = try row.decode((String?, Int64, Int64).self)
                return SendTimeBucket(zone: zone, quarter: quarter, count: Int(n))
            }
        }
    }

    /// Active instances by step, and step records by step.
    public func journeySteps(journey: String) async throws -> JourneyStepCounts {
        try await read("count journey steps", ifMissing: JourneyStepCounts()) { conn in
            var counts = JourneyStepCounts()
            for row in try await self.rows(
                """
                SELECT step, count(*) FROM journey_instances WHERE journey = \(journey) AND status = 'active'
                GROUP BY step
                """, conn)
            {
                let (step, n) = try row.decode((String, Int64).self)
                counts.at[step] = Int(n)
            }
            for row in try await self.rows(
                "SELECT step, count(*) FROM journey_steps WHERE journey = \(journey) GROUP BY step", conn)
            {
                let (step, n) = try row.decode((String, Int64).self)
                counts.through[step] = Int(n)
            }
            return counts
        }
    }

    /// Waiting rows by status, through the partial indexes the claim uses.
    public func queue(now: Int64) async throws -> [LedgerStatus: (waiting: Int, due: Int)] {
        try await read("count the queue", ifMissing: [:]) { conn in
            var out: [LedgerStatus: (waiting: Int, due: Int)] = [:]
            for row in try await self.rows(
                """
                SELECT status, count(*), count(*) FILTER (WHERE scheduled_at <= \(now)) FROM ledger
                WHERE status IN ('scheduled', 'failed') GROUP BY status
                UNION ALL
                SELECT status, count(*), count(*) FILTER (WHERE lease_until < \(now)) FROM ledger
                WHERE status = 'sending' GROUP BY status
                """, conn)
            {
                let (status, n, due) = try row.decode((String, Int64, Int64).self)
                if let s = LedgerStatus(rawValue: status) { out[s] = (waiting: Int(n), due: Int(due)) }
            }
            return out
        }
    }
}
