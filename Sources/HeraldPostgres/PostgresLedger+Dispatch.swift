import HeraldCore
import HeraldLedger

import PostgresNIO

extension PostgresLedger {
    /// Claims up to `limit` rows due at `now` for `owner` until `now + lease`, in one transaction: rows left
    /// `sending` by a claimer whose lease expired first (history reason "lease expired: reclaimed"), then
    /// `scheduled`/`failed` rows whose time has come, at most `perChannel[c]` of channel `c` (as `SQLiteLedger`).
    /// Candidates are locked with `FOR UPDATE SKIP LOCKED`, so concurrent claimers get disjoint rows without
    /// waiting for each other; `shards` limits the claim to rows of those shards. Each claimed row becomes
    /// `sending` with one more attempt and a history row, in one set-based statement.
    public func claimDue(
        now: Int64, limit: Int, owner: String, lease: Int64, perChannel: [ChannelKind: Int], shards: [Int]?
    ) async throws -> [LedgerEntry] {
        guard limit > 0 else { return [] }
        if let shards, shards.isEmpty { return [] }
        let shardList = shards.map { $0.map(Int16.init) } ?? []
        let allShards = shards == nil
        return try await write("claim due rows") { conn in
            var ids: [Int64] = []
            var from: [String] = []
            func take(_ query: PostgresQuery) async throws {
                for row in try await self.rows(query, conn) {
                    let (id, status) = try row.decode((Int64, String).self)
                    ids.append(id)
                    from.append(status)
                }
            }
            var budget = ClaimBudget(limit: limit, perChannel: perChannel)
            while let (phase, room) = budget.next() {
                let before = ids.count
                switch phase {
                case .expiredLeases:
                    try await take(
                        """
                        SELECT id, status FROM ledger
                        WHERE status = 'sending' AND lease_until < \(now) AND (\(allShards) OR shard = ANY(\(shardList)::smallint[]))
                        ORDER BY lease_until LIMIT \(Int64(room)) FOR UPDATE SKIP LOCKED
                        """)
                case .uncapped(let capped):
                    let names = capped.map(\.rawValue)
                    try await take(
                        """
                        SELECT id, status FROM ledger
                        WHERE status IN ('scheduled', 'failed') AND scheduled_at <= \(now)
                          AND (\(allShards) OR shard = ANY(\(shardList)::smallint[]))
                          AND (channel IS NULL OR channel <> ALL(\(names)::text[]))
                        ORDER BY scheduled_at LIMIT \(Int64(room)) FOR UPDATE SKIP LOCKED
                        """)
                case .channel(let channel):
                    try await take(
                        """
                        SELECT id, status FROM ledger
                        WHERE status IN ('scheduled', 'failed') AND scheduled_at <= \(now) AND channel = \(channel.rawValue)
                          AND (\(allShards) OR shard = ANY(\(shardList)::smallint[]))
                        ORDER BY scheduled_at LIMIT \(Int64(room)) FOR UPDATE SKIP LOCKED
                        """)
                }
                budget.took(ids.count - before)
            }
            guard !ids.isEmpty else { return [] }
            // Every candidate is locked by this transaction: its status read above is still its status.
            let rows = try await self.rows(
                """
                WITH picked AS (
                  SELECT * FROM unnest(\(ids)::bigint[], \(from)::text[]) WITH ORDINALITY AS p(id, from_status, ord)),
                claimed AS (
                  UPDATE ledger l SET status = 'sending', lease_owner = \(owner), lease_until = \(now + lease),
                    attempts = l.attempts + 1, updated_at = \(now)
                  FROM picked p WHERE l.id = p.id
                  RETURNING \(unescaped: Self.joinedColumns), p.from_status, p.ord),
                history AS (
                  INSERT INTO ledger_history(ledger_id, from_status, to_status, reason, at)
                  SELECT id, from_status, 'sending',
                    CASE WHEN from_status = 'sending' THEN 'lease expired: reclaimed' END, \(now)
                  FROM claimed ORDER BY ord)
                SELECT \(unescaped: Self.columns) FROM claimed ORDER BY id
                """, conn)
            return try Self.entries(rows)
        }
    }

    /// Ends the row leases of owners that are gone: not `owner`, and no longer members (`daemon_members`; a
    /// member that stops renewing is removed by the others' `balanceShards` once its membership expires). A
    /// live daemon's leases are never touched. Returns how many leases were ended (leases already ended are
    /// not counted again, so that several daemons noticing the same departure do not all report its rows).
    @discardableResult
    public func releaseLeases(notOwnedBy owner: String) async throws -> Int {
        try await write("release leases") { conn in
            let query: PostgresQuery = """
                WITH released AS (
                  UPDATE ledger l SET lease_until = 0
                  WHERE l.status = 'sending' AND coalesce(l.lease_owner, '') <> \(owner)
                    AND coalesce(l.lease_until, 1) <> 0
                    AND NOT EXISTS (SELECT 1 FROM daemon_members m WHERE m.owner = l.lease_owner)
                  RETURNING 1)
                SELECT count(*) FROM released
                """
            return Int(try await self.scalar(Int64.self, query, conn) ?? 0)
        }
    }

    /// Records what the dispatcher did with rows it claimed as `owner`, in one statement: only rows still
    /// `sending` and leased to `owner` change (a row whose lease expired and was reclaimed is left alone).
    /// `scheduled` hands the attempt back; `sent` sets `sent_at`. A row a delivery report already made final
    /// keeps its status; a second statement, run only when some outcome found no `sending` row, records its
    /// `sent_at`, provider id and the end of its lease (docs/ledger.md). Returns how many rows were updated.
    @discardableResult
    public func complete(_ outcomes: [DispatchOutcome], owner: String, at now: Int64) async throws -> Int {
        guard !outcomes.isEmpty else { return 0 }
        let keys = outcomes.map(\.key)
        let statuses = outcomes.map(\.status.rawValue)
        let reasons = NullableArray(outcomes.map(\.reason))
        let errors = NullableArray(outcomes.map(\.error))
        let providerIDs = NullableArray(outcomes.map(\.providerMessageID))
        let retries = NullableArray(outcomes.map(\.retryAt))
        let notes = NullableArray(outcomes.map(\.historyNote))
        return try await write("complete claimed rows") { conn in
            let query: PostgresQuery = """
                WITH o AS (
                  SELECT DISTINCT ON (key) * FROM unnest(\(keys)::text[], \(statuses)::text[], \(reasons)::text[],
                    \(errors)::text[], \(providerIDs)::text[], \(retries)::bigint[], \(notes)::text[])
                    WITH ORDINALITY AS o(key, status, reason, error, provider_message_id, retry_at, note, ord)
                  ORDER BY key, ord),
                done AS (
                  UPDATE ledger l SET status = o.status, reason = coalesce(o.reason, l.reason), error = o.error,
                    provider_message_id = coalesce(o.provider_message_id, l.provider_message_id),
                    scheduled_at = coalesce(o.retry_at, l.scheduled_at),
                    attempts = l.attempts - (CASE WHEN o.status = 'scheduled' THEN 1 ELSE 0 END),
                    sent_at = (CASE WHEN o.status = 'sent' THEN \(now) ELSE l.sent_at END),
                    lease_owner = NULL, lease_until = NULL, updated_at = \(now)
                  FROM o WHERE l.idempotency_key = o.key AND l.status = 'sending' AND l.lease_owner = \(owner)
                  RETURNING l.id, o.status, o.note, o.ord),
                history AS (
                  INSERT INTO ledger_history(ledger_id, from_status, to_status, reason, at)
                  SELECT id, 'sending', status, note, \(now) FROM done ORDER BY ord)
                SELECT count(*) FROM done
                """
            let done = Int(try await self.scalar(Int64.self, query, conn) ?? 0)
            guard done < Set(keys).count else { return done }
            // A fresh snapshot (READ COMMITTED): a report that committed while the statement above waited for its
            // row lock is visible here, so its row gets the dispatcher's facts without losing the report's status.
            let reported: PostgresQuery = """
                WITH o AS (
                  SELECT DISTINCT ON (key) * FROM unnest(\(keys)::text[], \(statuses)::text[], \(providerIDs)::text[])
                    WITH ORDINALITY AS o(key, status, provider_message_id, ord)
                  ORDER BY key, ord),
                kept AS (
                  UPDATE ledger l SET provider_message_id = coalesce(o.provider_message_id, l.provider_message_id),
                    sent_at = (CASE WHEN o.status = 'sent' THEN coalesce(l.sent_at, \(now)) ELSE l.sent_at END),
                    lease_owner = NULL, lease_until = NULL, updated_at = \(now)
                  FROM o WHERE l.idempotency_key = o.key AND l.status IN ('delivered', 'bounced')
                    AND l.lease_owner = \(owner)
                  RETURNING 1)
                SELECT count(*) FROM kept
                """
            return done + Int(try await self.scalar(Int64.self, reported, conn) ?? 0)
        }
    }

    /// Rows waiting to be sent (`scheduled`, `failed`, `sending`) and how many of them are due at `now`, read
    /// over the partial indexes.
    public func queueDepth(now: Int64) async throws -> (pending: Int, due: Int) {
        try await read("read queue depth", ifMissing: (0, 0)) { conn in
            let rows = try await self.rows(
                """
                SELECT count(*), count(*) FILTER (WHERE scheduled_at <= \(now)) FROM ledger
                WHERE status IN ('scheduled', 'failed')
                UNION ALL
                SELECT count(*), count(*) FROM ledger WHERE status = 'sending'
                """, conn)
            var pending = 0
            var due = 0
            for row in rows {
                let (p, d) = try row.decode((Int64, Int64).self)
                pending += Int(p)
                due += Int(d)
            }
            return (pending, due)
        }
    }

    /// Sends of `users` that already went out or are going out now (not merely planned), at or after `since`,
    /// except the rows in `excluding`: one statement for all the users.
    public func sentHistory(users: [String], since: Int64, excluding: Set<String>) async throws
        -> [String: [SendRecord]]
    {
        guard !users.isEmpty else { return [:] }
        let excluded = Array(excluding)
        return try await read("read sent history") { conn in
            let rows = try await self.rows(
                """
                SELECT "user", coalesce(sent_at, scheduled_at), channel, topic, campaign, transactional FROM ledger
                WHERE "user" = ANY(\(users)::text[]) AND status IN ('sending', 'sent', 'delivered', 'bounced')
                  AND coalesce(sent_at, scheduled_at) >= \(since)
                  AND idempotency_key <> ALL(\(excluded)::text[])
                """, conn)
            return try Self.sendRecords(rows)
        }
    }

    // MARK: Occurrences

    /// The planning record of one occurrence, or nil.
    public func occurrence(campaign: String, id: String) async throws -> OccurrenceRecord? {
        try await read("read occurrence") { conn in
            guard
                let row = try await self.rows(
                    """
                    SELECT campaign, occurrence, start, status, decisions, detail FROM occurrences
                    WHERE campaign = \(campaign) AND occurrence = \(id)
                    """, conn
                ).first
            else { return nil }
            let (c, o, start, status, decisions, detail) = try row.decode(
                (String, String, Int64, String, Int, String?).self)
            return OccurrenceRecord(
                campaign: c, occurrence: o, start: start, status: OccurrenceStatus(stored: status), decisions: decisions,
                detail: detail
            )
        }
    }

    /// The latest start among a campaign's occurrences with one of `statuses`, or nil.
    public func latestOccurrence(campaign: String, statuses: [OccurrenceStatus]) async throws -> Int64? {
        try await read("read latest occurrence") { conn in
            try await self.scalar(
                Int64.self,
                "SELECT max(start) FROM occurrences WHERE campaign = \(campaign) AND status = ANY(\(statuses.map(\.rawValue))::text[])",
                conn)
        }
    }

    /// Records an occurrence's decisions and its planning record in one transaction (a crash leaves neither),
    /// with its segment-membership changes; rows whose key exists are left as they are. The occurrence's row
    /// is inserted first: a concurrent call for the same occurrence waits on it, then inserts nothing and
    /// returns `fresh == false`.
    public func recordOccurrence(
        _ record: OccurrenceRecord, entries: [LedgerEntry], entered: [String], left: [String], at now: Int64
    ) async throws -> (inserted: Int, fresh: Bool) {
        try await write("record occurrence") { conn in
            let fresh =
                try await self.rows(
                    """
                    INSERT INTO occurrences(campaign, occurrence, start, status, decisions, detail, created_at, updated_at)
                    VALUES (\(record.campaign), \(record.occurrence), \(record.start), \(record.status.rawValue),
                      \(Int64(entries.count)), \(record.detail)::text, \(now), \(now))
                    ON CONFLICT (campaign, occurrence) DO NOTHING RETURNING 1
                    """, conn
                ).count > 0
            guard fresh else { return (0, false) }
            let inserted = try await self.insert(entries, conn)
            if !entered.isEmpty {
                try await conn.query(
                    """
                    INSERT INTO segment_members(campaign, "user", since)
                    SELECT \(record.campaign), u, \(now) FROM unnest(\(entered)::text[]) AS u
                    ON CONFLICT DO NOTHING
                    """, logger: self.logger)
            }
            if !left.isEmpty {
                try await conn.query(
                    """
                    DELETE FROM segment_members WHERE campaign = \(record.campaign) AND "user" = ANY(\(left)::text[])
                    """, logger: self.logger)
            }
            return (inserted, true)
        }
    }

    /// The users recorded as members of a campaign's audience (for `entered_segment`).
    public func members(campaign: String) async throws -> Set<String> {
        try await read("read segment members") { conn in
            Set(
                try await self.rows("SELECT \"user\" FROM segment_members WHERE campaign = \(campaign)", conn)
                    .map { try $0.decode(String.self) })
        }
    }
}
