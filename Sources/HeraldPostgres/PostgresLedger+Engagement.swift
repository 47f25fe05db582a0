import HeraldCore
import HeraldLedger

import PostgresNIO

extension PostgresLedger {
    /// The engagement at `now` of `users` (every user when nil): one grouped query over the ledger's sends of
    /// the window, as `SQLiteLedger.engagement` (see `Engagement`); a conversion is an `EXISTS` probe into the
    /// events index (user, name, time), made only for a send that was neither opened nor clicked and whose
    /// campaign has a goal.
    public func engagement(users: [String]?, now: Int64, goals: [String: Campaign.Conversion]) async throws
        -> [String: Engagement]
    {
        if users?.isEmpty == true { return [:] }
        let sorted = goals.sorted { $0.key < $1.key }
        let eventNames = Array(Set(sorted.map(\.value.event)))
        // One snapshot for the goals' ids and the aggregate; no JIT: compiling this query costs more than it
        // saves (0.6–2 s measured over a million users).
        return try await snapshot("read engagement", ifMissing: [:]) { conn in
            try await conn.query("SET LOCAL jit = off", logger: self.logger)
            var ids: [String: Int64] = [:]
            if !eventNames.isEmpty {
                for try await (name, id) in try await conn.query(
                    "SELECT name, id FROM event_names WHERE name = ANY(\(eventNames)::text[])",
                    logger: self.logger
                ).decode((String, Int64).self) {
                    ids[name] = id
                }
            }
            // A goal whose event was never stored cannot convert anyone.
            let known = sorted.compactMap { c, g in
                ids[g.event].map { (campaign: c, nameID: $0, within: g.within) }
            }
            let campaigns = known.map(\.campaign)
            let nameIDs = known.map(\.nameID)
            let withins = known.map(\.within)
            // CASE evaluates its branches in order: the conversion probe runs only for sends neither opened
            // nor clicked, of a campaign with a goal. The goal's event counts from sent_at to sent_at + within,
            // both ends included to the second, and not after now; events.ts is in milliseconds. The user's pk
            // is a scalar subquery so that the probe seeks all four columns of events_identity.
            // Streamed: a bulk read has a row per user with a send in the window.
            var out: [String: Engagement] = [:]
            for try await (user, sent, engaged) in try await conn.query(
                """
                SELECT l."user", count(*)::bigint, count(*) FILTER (WHERE CASE
                    WHEN l.opened_at <= \(now) OR l.clicked_at <= \(now) THEN true
                    WHEN l.campaign = ANY(\(campaigns)::text[]) AND EXISTS (
                      SELECT 1 FROM unnest(\(campaigns)::text[], \(nameIDs)::bigint[], \(withins)::bigint[])
                          AS g(campaign, name_id, within)
                        JOIN events e ON e.name_id = g.name_id
                      WHERE g.campaign = l.campaign AND e.user_pk = (SELECT u.pk FROM users u WHERE u.id = l."user")
                        AND e.ts >= l.sent_at * 1000 AND e.ts < (least(l.sent_at + g.within, \(now)) + 1) * 1000)
                      THEN true
                    ELSE false END)::bigint
                FROM ledger l
                WHERE l.sent_at >= \(now - Engagement.window) AND l.sent_at <= \(now)
                  AND (l.status IN ('sent', 'delivered') OR l.opened_at IS NOT NULL OR l.clicked_at IS NOT NULL)
                  AND (\(users)::text[] IS NULL OR l."user" = ANY(\(users)::text[]))
                GROUP BY l."user"
                """, logger: self.logger
            ).decode((String, Int64, Int64).self) {
                out[user] = Engagement(sent: Int(sent), engaged: Int(engaged))
            }
            return out
        }
    }
}
