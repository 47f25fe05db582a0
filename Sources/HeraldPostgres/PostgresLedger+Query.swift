import HeraldCore
import HeraldLedger

import PostgresNIO

/// Following the history (`herald logs --follow`).
///
/// SQLite's history ids grow in commit order (one writer); PostgreSQL's `bigserial` does not: a transaction can
/// take id 10, another id 11 and commit first, and a reader that saw 11 and moved past it would never see 10.
/// So the follow cursor is not a history id but a transaction id: each history row stores the transaction that
/// wrote it (`xid`, `pg_current_xact_id()`), and a read returns only rows whose transaction is older than the
/// oldest one still running in its snapshot (`pg_snapshot_xmin(pg_current_snapshot())`). Every such transaction
/// has ended, so the set of those rows can no longer change; any row committed later belongs to a transaction
/// at or above that horizon, above the cursor. Rows are returned in (xid, id) order, a page never splits one
/// transaction's rows (a larger transaction than `limit` comes whole), and the cursor is the last transaction
/// read. A long-running writing transaction holds the follower back until it ends, in any database of the
/// server (transaction ids are server-wide); nothing is skipped. So a change is visible once every write
/// transaction that started before it has ended. To read its own writes, `window` and `changes(after:)` first
/// wait (bounded, see `PostgresDatabase.settle`) until every transaction that had started when they were called
/// has ended.
///
/// The cursor is opaque to callers (`DispatchLedger`): only ever passed back to `changes(after:)`.
/// `LedgerChange.sequence` stays the history row's id (printed as `history_id`), for display.
extension PostgresLedger {
    /// The newest `limit` rows matching `filter` (all when nil), oldest first, with the cursor `changes(after:)`
    /// continues from: read in one snapshot, the cursor is that snapshot's horizon, so no later change is
    /// missed (a change both in the window and committed near it may be followed again).
    public func window(_ filter: LedgerFilter, limit: Int?) async throws -> LedgerPage<LedgerEntry> {
        try await settle("read the ledger window")
        return try await snapshot("read the ledger window", ifMissing: LedgerPage(items: [], cursor: 0)) { conn in
            let horizon =
                try await self.scalar(
                    Int64.self, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1", conn) ?? 0
            let rows = try await self.rows(
                """
                SELECT * FROM (
                  SELECT \(unescaped: Self.columns) FROM ledger
                  WHERE (\(filter.campaign)::text IS NULL OR campaign = \(filter.campaign)::text)
                    AND (\(filter.user)::text IS NULL OR "user" = \(filter.user)::text)
                    AND (\(filter.status?.rawValue)::text IS NULL OR status = \(filter.status?.rawValue)::text)
                    AND (\(filter.since)::bigint IS NULL OR updated_at >= \(filter.since)::bigint)
                  ORDER BY updated_at DESC, id DESC LIMIT \(limit.map { Int64(max(0, $0)) })::bigint) w
                ORDER BY updated_at, id
                """, conn)
            return LedgerPage(items: try Self.entries(rows), cursor: max(0, horizon))
        }
    }

    /// Waits until the write transactions already started have ended (`PostgresDatabase.settle`), so that a
    /// read made next sees the caller's own committed writes as settled.
    func settle(_ what: String) async throws {
        do {
            try await database.settle()
        } catch {
            throw Self.describe(error, what)
        }
    }

    /// Runs `body` in a read-only `REPEATABLE READ` transaction, so that all its statements see one snapshot;
    /// a ledger never migrated reads as `ifMissing`.
    func snapshot<T: Sendable>(_ what: String, ifMissing: T, _ body: (PostgresConnection) async throws -> T)
        async throws -> T
    {
        do {
            return try await database.transaction { conn in
                try await conn.query(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: self.logger)
                return try await body(conn)
            }
        } catch let error as PostgresTransactionError
            where (error.closureError as? PSQLError)?.serverInfo?[.sqlState] == "42P01"
        {
            return ifMissing
        } catch {
            throw Self.describe(error, what)
        }
    }

    /// Status changes after `cursor` (a transaction id, see above) whose row matches `filter` (its status: the
    /// one changed to), oldest first: at most `limit`, unless one transaction wrote more.
    public func changes(after cursor: Int64, _ filter: LedgerFilter, limit: Int = 1000) async throws
        -> LedgerPage<LedgerChange>
    {
        let limit = max(1, limit)
        let cursor = max(0, cursor)
        try await settle("follow the ledger")
        return try await snapshot("follow the ledger", ifMissing: LedgerPage(items: [], cursor: cursor)) {
            conn in
            let n = Self.columnCount
            var rows = try await self.rows(
                """
                WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
                SELECT \(unescaped: Self.joinedColumns), h.id, h.from_status, h.to_status, h.reason, h.at,
                  l.attempts - (SELECT count(*) FROM ledger_history later
                    WHERE later.ledger_id = h.ledger_id AND later.id > h.id AND later.to_status = 'sending'),
                  h.xid::text::bigint, horizon.xmin::text::bigint
                FROM horizon, ledger_history h JOIN ledger l ON l.id = h.ledger_id
                WHERE h.xid > \(String(cursor))::xid8 AND h.xid < horizon.xmin
                  AND (\(filter.campaign)::text IS NULL OR l.campaign = \(filter.campaign)::text)
                  AND (\(filter.user)::text IS NULL OR l."user" = \(filter.user)::text)
                  AND (\(filter.status?.rawValue)::text IS NULL OR h.to_status = \(filter.status?.rawValue)::text)
                ORDER BY h.xid, h.id LIMIT \(Int64(limit))
                """, conn)
            var next = cursor
            if rows.count < limit {
                // Every settled change was read: move up to the horizon, past the ones the filter left out.
                if let last = rows.last {
                    next = try last.makeRandomAccess()[n + 7].decode(Int64.self) - 1
                } else {
                    next =
                        try await self.scalar(
                            Int64.self, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1",
                            conn)
                        ?? cursor
                }
            } else if let last = rows.last {
                // A full page: end it at a transaction boundary.
                let lastXid = try last.makeRandomAccess()[n + 6].decode(Int64.self)
                let whole = try rows.allSatisfy {
                    try $0.makeRandomAccess()[n + 6].decode(Int64.self) == lastXid
                }
                if whole {
                    // One transaction fills the page: take all of its matching rows.
                    rows = try await self.rows(
                        """
                        SELECT \(unescaped: Self.joinedColumns), h.id, h.from_status, h.to_status, h.reason, h.at,
                          l.attempts - (SELECT count(*) FROM ledger_history later
                            WHERE later.ledger_id = h.ledger_id AND later.id > h.id AND later.to_status = 'sending'),
                          h.xid::text::bigint, 0::bigint
                        FROM ledger_history h JOIN ledger l ON l.id = h.ledger_id
                        WHERE h.xid = \(String(lastXid))::xid8
                          AND (\(filter.campaign)::text IS NULL OR l.campaign = \(filter.campaign)::text)
                          AND (\(filter.user)::text IS NULL OR l."user" = \(filter.user)::text)
                          AND (\(filter.status?.rawValue)::text IS NULL OR h.to_status = \(filter.status?.rawValue)::text)
                        ORDER BY h.id
                        """, conn)
                    next = lastXid
                } else {
                    rows = try rows.filter { try $0.makeRandomAccess()[n + 6].decode(Int64.self) != lastXid }
                    next = try rows.last.map { try $0.makeRandomAccess()[n + 6].decode(Int64.self) } ?? cursor
                }
            }
            let items = try rows.compactMap { row -> LedgerChange? in
                let r = row.makeRandomAccess()
                guard let to = LedgerStatus(rawValue: try r[n + 2].decode(String.self)) else { return nil }
                let entry = try Self.entry(r)
                let transition = LedgerTransition(
                    idempotencyKey: entry.idempotencyKey,
                    from: try r[n + 1].decode(String?.self).flatMap(LedgerStatus.init(rawValue:)), to: to,
                    reason: try r[n + 3].decode(String?.self), at: try r[n + 4].decode(Int64.self))
                return LedgerChange(
                    sequence: try r[n].decode(Int64.self), transition: transition,
                    attempts: Int(try r[n + 5].decode(Int64.self)), entry: entry)
            }
            return LedgerPage(items: items, cursor: max(cursor, next))
        }
    }

    /// The campaign ids that have ledger rows, sorted (bytewise, as SQLite sorts).
    public func campaigns() async throws -> [String] {
        try await read("read campaigns", ifMissing: []) { conn in
            try await self.rows("SELECT DISTINCT campaign COLLATE \"C\" FROM ledger ORDER BY 1", conn)
                .map { try $0.decode(String.self) }
        }
    }

    /// Rows the provider accepted (see `CampaignFunnel.sent`), as SQL over `ledger` aliased `l`.
    static let sentSQL = CampaignFunnel.sentRowSQL

    /// The funnel of `campaign` (every campaign with rows when nil), sorted by campaign; `goals` holds each
    /// campaign's conversion goal. As `SQLiteLedger.funnels`: a row converts when its user has the goal's event
    /// (the audience's `events`, `event_names`, `users`) from its base time to `within` after it, both ends
    /// included, to the second; the base is `sent_at` for sent rows, else the trigger (else the scheduled, else
    /// the decision time).
    public func funnels(campaign: String?, goals: [String: Campaign.Conversion]) async throws
        -> [CampaignFunnel]
    {
        try await read("read funnels", ifMissing: []) { conn in
            let rows = try await self.rows(
                """
                SELECT l.campaign, l.status, CASE WHEN l.status = 'suppressed' THEN l.reason END, count(*),
                  count(*) FILTER (WHERE \(unescaped: Self.sentSQL)), count(l.opened_at), count(l.clicked_at)
                FROM ledger l WHERE (\(campaign)::text IS NULL OR l.campaign = \(campaign)::text) GROUP BY 1, 2, 3
                """, conn)
            var funnels = CampaignFunnel.assemble(
                try rows.map { row in
                    let (id, status, reason, n, sent, opened, clicked) = try row.decode(
                        (String, String, String?, Int64, Int64, Int64, Int64).self)
                    return FunnelGroup(
                        campaign: id, status: status, reason: reason, rows: Int(n), sent: Int(sent),
                        opened: Int(opened), clicked: Int(clicked))
                })
            for id in funnels.keys {
                try await self.addConversions(&funnels[id]!, goal: goals[id], conn)
            }
            return funnels.values.sorted { $0.campaign < $1.campaign }
        }
    }

    /// Fills in the arms and the converted count of `funnel` from one pass over its rows.
    func addConversions(
        _ funnel: inout CampaignFunnel, goal: Campaign.Conversion?, _ conn: PostgresConnection
    )
        async throws
    {
        var nameID: Int64?
        if let goal {
            nameID = try await scalar(
                Int64.self, "SELECT id::bigint FROM event_names WHERE name = \(goal.event)", conn)
        }
        let within = Int64(goal?.within ?? 0)
        let rows = try await self.rows(
            """
            WITH decided AS (
              SELECT l."user", l.variant, l.status = 'holdout' AS holdout, \(unescaped: Self.sentSQL) AS sent,
                CASE WHEN \(unescaped: Self.sentSQL) THEN coalesce(l.sent_at, l.scheduled_at, l.updated_at)
                  ELSE coalesce(l.trigger_at, l.scheduled_at, l.created_at) END AS base,
                u.pk AS user_pk
              FROM ledger l LEFT JOIN users u ON u.id = l."user" WHERE l.campaign = \(funnel.campaign)),
            judged AS (
              SELECT "user", variant, holdout, sent, \(nameID)::bigint IS NOT NULL AND EXISTS (
                SELECT 1 FROM events e WHERE e.user_pk = d.user_pk AND e.name_id = \(nameID)::bigint
                  AND e.ts >= d.base * 1000 AND e.ts < (d.base + \(within) + 1) * 1000) AS converted
              FROM decided d)
            SELECT holdout, variant, count(DISTINCT "user"), count(DISTINCT CASE WHEN converted THEN "user" END),
              count(*) FILTER (WHERE sent AND converted)
            FROM judged GROUP BY holdout, variant ORDER BY holdout DESC, variant COLLATE "C" NULLS FIRST
            """, conn)
        let arms = try rows.map { try $0.decode((Bool, String?, Int64, Int64, Int64).self) }
        funnel.addArms(
            arms.map {
                FunnelArmGroup(
                    holdout: $0.0, variant: $0.1, users: Int($0.2), convertedUsers: Int($0.3),
                    sentConverted: Int($0.4))
            }, goal: goal)
    }
}
