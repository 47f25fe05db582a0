import GRDB
import HeraldCore
import HeraldLedger

extension SQLiteLedger {
    /// The names in `SQLiteLedger.columns`.
    static let columnNames = columns.split(separator: ",").map { $0.filter { !$0.isWhitespace } }

    /// `SQLiteLedger.columns` qualified with `l.`, for joins where `id` is ambiguous.
    static let joinedColumns = columnNames.map { "l." + $0 }.joined(separator: ", ")

    /// True when the ledger has every column these reads select. A read-only ledger may find the tables
    /// missing, or half-migrated while a daemon starts (each migration commits on its own, so ledger-v1's
    /// table can be seen before ledger-v2's columns); until then there is nothing to read.
    func readable(_ db: Database) throws -> Bool {
        guard try db.tableExists("ledger") else { return false }
        return Set(try db.columns(in: "ledger").map(\.name)).isSuperset(of: Self.columnNames)
    }

    /// The SQL conditions (each starting with ` AND `) and arguments for `filter`; only the given
    /// fields become conditions, so SQLite can use the campaign, user and time indexes.
    static func conditions(
        _ filter: LedgerFilter, table: String, statusColumn: String, since: Bool
    ) -> (sql: String, arguments: StatementArguments) {
        var sql = ""
        var arguments = StatementArguments()
        func add(_ condition: String, _ value: some DatabaseValueConvertible) {
            sql += " AND \(condition) ?"
            arguments += [value]
        }
        if let c = filter.campaign { add("\(table)campaign =", c) }
        if let u = filter.user { add("\(table)user =", u) }
        if let s = filter.status { add("\(statusColumn) =", s.rawValue) }
        if since, let t = filter.since { add("\(table)updated_at >=", t) }
        return (sql, arguments)
    }

    /// The newest `limit` rows matching `filter` (all when nil), printed oldest first, with the cursor from
    /// which `changes(after:)` continues: both are read in one transaction, so nothing falls between them.
    public func window(_ filter: LedgerFilter, limit: Int?) async throws -> LedgerPage<LedgerEntry> {
        try await pool.read { db in
            guard try self.readable(db) else { return LedgerPage(items: [], cursor: 0) }
            let cursor = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM ledger_history") ?? 0
            let (conditions, arguments) = Self.conditions(
                filter, table: "", statusColumn: "status", since: true)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM (SELECT \(Self.columns) FROM ledger WHERE 1\(conditions)
                      ORDER BY updated_at DESC, id DESC LIMIT ?)
                    ORDER BY updated_at, id
                    """, arguments: arguments + [limit ?? -1])
            return LedgerPage(items: rows.map(Self.entry), cursor: cursor)
        }
    }

    /// Status changes after history id `cursor` whose row matches `filter` (its status: the one changed to),
    /// oldest first, at most `limit`. History ids grow in commit order (SQLite has one writer), so a change
    /// committed later never gets a smaller id than one already read.
    public func changes(after cursor: Int64, _ filter: LedgerFilter, limit: Int = 1000) async throws
        -> LedgerPage<LedgerChange>
    {
        try await pool.read { db in
            guard try self.readable(db) else { return LedgerPage(items: [], cursor: cursor) }
            let (conditions, arguments) = Self.conditions(
                filter, table: "l.", statusColumn: "h.to_status", since: false)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.joinedColumns), h.id, h.from_status, h.to_status, h.reason, h.at,
                      l.attempts - (SELECT count(*) FROM ledger_history later
                        WHERE later.ledger_id = h.ledger_id AND later.id > h.id AND later.to_status = 'sending')
                    FROM ledger_history h JOIN ledger l ON l.id = h.ledger_id
                    WHERE h.id > ?\(conditions) ORDER BY h.id LIMIT ?
                    """, arguments: StatementArguments([cursor]) + arguments + [limit])
            let items = rows.compactMap { r -> LedgerChange? in
                guard let to = LedgerStatus(rawValue: r[25]) else { return nil }
                let entry = Self.entry(r)
                let transition = LedgerTransition(
                    idempotencyKey: entry.idempotencyKey,
                    from: (r[24] as String?).flatMap(LedgerStatus.init(rawValue:)), to: to, reason: r[26],
                    at: r[27])
                return LedgerChange(sequence: r[23], transition: transition, attempts: r[28], entry: entry)
            }
            // A short page saw every change committed so far: move past the ones the filter left out too.
            var next: Int64 = rows.last?[23] ?? cursor
            if rows.count < limit {
                next = try Int64.fetchOne(db, sql: "SELECT max(id) FROM ledger_history") ?? cursor
            }
            return LedgerPage(items: items, cursor: max(cursor, next))
        }
    }

    /// The campaign ids that have ledger rows, sorted.
    public func campaigns() async throws -> [String] {
        try await pool.read { db in
            guard try self.readable(db) else { return [] }
            return try String.fetchAll(db, sql: "SELECT DISTINCT campaign FROM ledger ORDER BY campaign")
        }
    }
}

extension SQLiteLedger {
    /// Rows the provider accepted (see `CampaignFunnel.sent`), as SQL over `ledger` aliased `l`.
    static let sentSQL = CampaignFunnel.sentRowSQL

    /// The funnel of `campaign` (every campaign with rows when nil), sorted by campaign; `goals` holds each
    /// campaign's conversion goal. A row converts when its user has the goal's event from its base time to
    /// `within` after it, both ends included, to the second: the base is `sent_at` for sent rows, else the
    /// trigger (else the scheduled, else the decision time), so the holdout is measured like the sends.
    public func funnels(campaign: String?, goals: [String: Campaign.Conversion]) async throws
        -> [CampaignFunnel]
    {
        try await pool.read { db in
            guard try self.readable(db) else { return [] }
            let (conditions, arguments) = Self.conditions(
                LedgerFilter(campaign: campaign), table: "l.", statusColumn: "l.status", since: false)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT l.campaign, l.status, CASE WHEN l.status = 'suppressed' THEN l.reason END, count(*),
                      sum(\(Self.sentSQL)), count(l.opened_at), count(l.clicked_at)
                    FROM ledger l WHERE 1\(conditions) GROUP BY 1, 2, 3
                    """, arguments: arguments)
            var funnels = CampaignFunnel.assemble(
                rows.map {
                    FunnelGroup(
                        campaign: $0[0], status: $0[1], reason: $0[2], rows: $0[3], sent: $0[4], opened: $0[5],
                        clicked: $0[6])
                })
            for id in funnels.keys {
                try Self.addConversions(&funnels[id]!, goal: goals[id], db)
            }
            return funnels.values.sorted { $0.campaign < $1.campaign }
        }
    }

    /// Fills in the arms and the converted count of `funnel` from one pass over its rows.
    static func addConversions(_ funnel: inout CampaignFunnel, goal: Campaign.Conversion?, _ db: Database)
        throws
    {
        let nameID = try goal.flatMap {
            try Int64.fetchOne(db, sql: "SELECT id FROM event_names WHERE name = ?", arguments: [$0.event])
        }
        let rows = try Row.fetchAll(
            db,
            sql: """
                WITH decided AS (
                  SELECT l.user, l.variant, l.status = 'holdout' AS holdout, \(sentSQL) AS sent,
                    CASE WHEN \(sentSQL) THEN coalesce(l.sent_at, l.scheduled_at, l.updated_at)
                      ELSE coalesce(l.trigger_at, l.scheduled_at, l.created_at) END AS base,
                    u.pk AS user_pk
                  FROM ledger l LEFT JOIN users u ON u.id = l.user WHERE l.campaign = ?1),
                judged AS (
                  SELECT user, variant, holdout, sent, ?2 IS NOT NULL AND EXISTS (
                    SELECT 1 FROM events e WHERE e.user_pk = d.user_pk AND e.name_id = ?2
                      AND e.ts >= d.base * 1000 AND e.ts < (d.base + ?3 + 1) * 1000) AS converted
                  FROM decided d)
                SELECT holdout, variant, count(DISTINCT user), count(DISTINCT CASE WHEN converted THEN user END),
                  sum(sent AND converted)
                FROM judged GROUP BY holdout, variant ORDER BY holdout DESC, variant
                """, arguments: [funnel.campaign, nameID, goal?.within ?? 0])
        funnel.addArms(
            rows.map {
                FunnelArmGroup(
                    holdout: $0[0], variant: $0[1], users: $0[2], convertedUsers: $0[3], sentConverted: $0[4])
            }, goal: goal)
    }
}

