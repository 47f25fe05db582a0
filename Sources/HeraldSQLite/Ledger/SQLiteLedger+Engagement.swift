import GRDB
import HeraldCore
import HeraldLedger

extension SQLiteLedger {
    /// Users per grouped query when `engagement` is asked for a list of users (SQLite's bound-parameter limit).
    static let engagementChunk = 500

    /// The engagement at `now` of `users` (every user when nil): one grouped query over the ledger's sends of
    /// the window, read through `ledger_user_sent`; a conversion is an `EXISTS` probe into the events index
    /// (user, name, time), made only for a send that was neither opened nor clicked and whose campaign has a
    /// goal. See `Engagement` for the definition and docs/segments.md for the reasoning.
    public func engagement(users: [String]?, now: Int64, goals: [String: Campaign.Conversion]) async throws
        -> [String: Engagement]
    {
        if users?.isEmpty == true { return [:] }
        return try await pool.read { db in
            guard try self.readable(db) else { return [:] }
            let resolved = try Self.resolve(goals, db)
            var out: [String: Engagement] = [:]
            guard let users else {
                try Self.engagement(users: nil, now: now, goals: resolved, db, into: &out)
                return out
            }
            for start in stride(from: 0, to: users.count, by: Self.engagementChunk) {
                let part = Array(users[start..<min(users.count, start + Self.engagementChunk)])
                try Self.engagement(users: part, now: now, goals: resolved, db, into: &out)
            }
            return out
        }
    }

    /// `goals` with their event names as stored ids, sorted by campaign; a goal whose event was never
    /// stored cannot convert anyone and is left out.
    static func resolve(_ goals: [String: Campaign.Conversion], _ db: Database) throws -> [(
        campaign: String, nameID: Int64, within: Int64
    )] {
        let names = Set(goals.values.map(\.event))
        guard !names.isEmpty, try db.tableExists("event_names") else { return [] }
        var ids: [String: Int64] = [:]
        let marks = Array(repeating: "?", count: names.count).joined(separator: ",")
        for row in try Row.fetchAll(
            db, sql: "SELECT name, id FROM event_names WHERE name IN (\(marks))",
            arguments: StatementArguments(Array(names)))
        {
            ids[row[0]] = row[1]
        }
        return goals.sorted { $0.key < $1.key }.compactMap { campaign, goal in
            ids[goal.event].map { (campaign, $0, goal.within) }
        }
    }

    /// One grouped query for `users` (all when nil), adding each user's counts to `out`.
    static func engagement(
        users: [String]?, now: Int64, goals: [(campaign: String, nameID: Int64, within: Int64)],
        _ db: Database, into out: inout [String: Engagement]
    ) throws {
        var arguments: [String: (any DatabaseValueConvertible)?] = [
            "now": now, "since": now - Engagement.window,
        ]
        var with = ""
        var converted = ""
        if !goals.isEmpty {
            var values: [String] = []
            for (i, g) in goals.enumerated() {
                values.append("(:c\(i), :n\(i), :w\(i))")
                arguments["c\(i)"] = g.campaign
                arguments["n\(i)"] = g.nameID
                arguments["w\(i)"] = g.within
            }
            with = "WITH goals(campaign, name_id, within) AS (VALUES \(values.joined(separator: ", ")))"
            // The goal's event from sent_at to sent_at + within, both ends included to the second, and not
            // after now; events.ts is in milliseconds.
            converted = """
                WHEN EXISTS (
                  SELECT 1 FROM goals g JOIN users u ON u.id = l.user
                    JOIN events e ON e.user_pk = u.pk AND e.name_id = g.name_id
                  WHERE g.campaign = l.campaign AND e.ts >= l.sent_at * 1000
                    AND e.ts < (min(l.sent_at + g.within, :now) + 1) * 1000) THEN 1
                """
        }
        var only = ""
        if let users {
            only = " AND l.user IN (" + users.indices.map { ":u\($0)" }.joined(separator: ", ") + ")"
            for (i, u) in users.enumerated() { arguments["u\(i)"] = u }
        }
        // CASE evaluates its branches in order: the conversion probe runs only for sends neither opened nor clicked.
        let rows = try Row.fetchCursor(
            db,
            sql: """
                \(with)
                SELECT l.user, count(*), sum(CASE WHEN l.opened_at <= :now OR l.clicked_at <= :now THEN 1
                  \(converted)
                  ELSE 0 END)
                FROM ledger l
                WHERE l.sent_at >= :since AND l.sent_at <= :now
                  AND (l.status IN ('sent', 'delivered') OR l.opened_at IS NOT NULL OR l.clicked_at IS NOT NULL)\(only)
                GROUP BY l.user
                """, arguments: StatementArguments(arguments))
        while let r = try rows.next() {
            out[r[0]] = Engagement(sent: r[1], engaged: r[2])
        }
    }
}
