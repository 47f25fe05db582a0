import GRDB
import HeraldCore
import HeraldLedger

extension SQLiteLedger {
    /// Claims up to `limit` rows due at `now` for `owner` until `now + lease`: rows `scheduled` or `failed` whose
    /// time has come, and rows left `sending` by a dispatcher whose lease expired (a crash). Each claimed row
    /// becomes `sending` with one more attempt, in one transaction with its history, so two claimers never
    /// hold the same row.
    /// `perChannel` caps how many rows of a channel one claim takes, in the order `ClaimBudget` gives.
    public func claimDue(
        now: Int64, limit: Int, owner: String, lease: Int64, perChannel: [ChannelKind: Int], shards: [Int]?
    ) async throws -> [LedgerEntry] {
        // One daemon per SQLite store: it holds every shard, so `shards` never narrows the claim.
        try await pool.write { db in
            var expired: [Int64] = []
            var due: [Int64] = []
            var budget = ClaimBudget(limit: limit, perChannel: perChannel)
            while let (phase, room) = budget.next() {
                let ids: [Int64]
                switch phase {
                case .expiredLeases:
                    ids = try Int64.fetchAll(
                        db,
                        sql: "SELECT id FROM ledger WHERE status = 'sending' AND lease_until < ? ORDER BY lease_until LIMIT ?",
                        arguments: [now, room])
                    expired = ids
                case .uncapped(let capped):
                    ids = try Int64.fetchAll(
                        db,
                        sql: """
                            SELECT id FROM ledger WHERE status IN ('scheduled', 'failed') AND scheduled_at <= ?
                              AND (channel IS NULL OR channel NOT IN (\(capped.map { "'\($0.rawValue)'" }.joined(separator: ","))))
                            ORDER BY scheduled_at LIMIT ?
                            """, arguments: [now, room])
                    due += ids
                case .channel(let channel):
                    ids = try Int64.fetchAll(
                        db,
                        sql: """
                            SELECT id FROM ledger WHERE status IN ('scheduled', 'failed') AND scheduled_at <= ? AND channel = ?
                            ORDER BY scheduled_at LIMIT ?
                            """, arguments: [now, channel.rawValue, room])
                    due += ids
                }
                budget.took(ids.count)
            }
            guard !expired.isEmpty || !due.isEmpty else { return [] }
            let update = try db.cachedStatement(
                sql: """
                    UPDATE ledger SET status = 'sending', lease_owner = ?, lease_until = ?, attempts = attempts + 1,
                      updated_at = ? WHERE id = ?
                    """)
            let history = try db.cachedStatement(
                sql: "INSERT INTO ledger_history(ledger_id, from_status, to_status, reason, at) VALUES (?, ?, 'sending', ?, ?)")
            let status = try db.cachedStatement(sql: "SELECT status FROM ledger WHERE id = ?")
            for (ids, reason) in [(expired, "lease expired: reclaimed"), (due, nil as String?)] {
                for id in ids {
                    let from = try String.fetchOne(status, arguments: [id]) ?? "scheduled"
                    try update.execute(arguments: [owner, now + lease, now, id])
                    try history.execute(arguments: [id, from, reason, now])
                }
            }
            let ids = expired + due
            return try Row.fetchAll(
                db,
                sql: "SELECT \(Self.columns) FROM ledger WHERE id IN (\(ids.map(String.init).joined(separator: ",")))"
            ).map(Self.entry)
        }
    }

    /// Ends every lease not held by `owner`, so that rows a dead predecessor left `sending` are claimed again at
    /// once (with SQLite only one daemon runs per store, so every other owner is gone). Returns how many.
    @discardableResult
    public func releaseLeases(notOwnedBy owner: String) async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE ledger SET lease_until = 0 WHERE status = 'sending' AND coalesce(lease_owner, '') != ?",
                arguments: [owner])
            return db.changesCount
        }
    }

    /// Records what the dispatcher did with rows it claimed as `owner`, in one transaction. A row no longer
    /// leased to `owner` (its lease expired and another claimer took it) is left alone. A row a delivery report
    /// already made final while it was `sending` keeps its status: only `sent_at`, the provider's id and the end
    /// of the lease are recorded (docs/ledger.md). Returns how many rows were updated.
    @discardableResult
    public func complete(_ outcomes: [DispatchOutcome], owner: String, at now: Int64) async throws -> Int {
        guard !outcomes.isEmpty else { return 0 }
        return try await pool.write { db in
            let find = try db.cachedStatement(
                sql: "SELECT id FROM ledger WHERE idempotency_key = ? AND status = 'sending' AND lease_owner = ?")
            let update = try db.cachedStatement(
                sql: """
                    UPDATE ledger SET status = ?, reason = coalesce(?, reason), error = ?,
                      provider_message_id = coalesce(?, provider_message_id),
                      scheduled_at = coalesce(?, scheduled_at),
                      attempts = attempts - (CASE WHEN ? = 'scheduled' THEN 1 ELSE 0 END),
                      sent_at = (CASE WHEN ? = 'sent' THEN ? ELSE sent_at END),
                      lease_owner = NULL, lease_until = NULL, updated_at = ?
                    WHERE id = ?
                    """)
            let history = try db.cachedStatement(
                sql: "INSERT INTO ledger_history(ledger_id, from_status, to_status, reason, at) VALUES (?, 'sending', ?, ?, ?)")
            let reported = try db.cachedStatement(
                sql: """
                    UPDATE ledger SET provider_message_id = coalesce(?, provider_message_id),
                      sent_at = (CASE WHEN ? = 'sent' THEN coalesce(sent_at, ?) ELSE sent_at END),
                      lease_owner = NULL, lease_until = NULL, updated_at = ?
                    WHERE idempotency_key = ? AND status IN ('delivered', 'bounced') AND lease_owner = ?
                    """)
            var updated = 0
            for o in outcomes {
                guard let id = try Int64.fetchOne(find, arguments: [o.key, owner]) else {
                    try reported.execute(arguments: [o.providerMessageID, o.status.rawValue, now, now, o.key, owner])
                    updated += db.changesCount
                    continue
                }
                let s = o.status.rawValue
                try update.execute(arguments: [
                    s, o.reason, o.error, o.providerMessageID, o.retryAt, s, s, now, now, id,
                ])
                try history.execute(arguments: [id, s, o.historyNote, now])
                updated += 1
            }
            return updated
        }
    }

    /// Rows waiting to be sent (`scheduled`, `failed`, `sending`) and how many of them are due at `now`.
    public func queueDepth(now: Int64) async throws -> (pending: Int, due: Int) {
        try await pool.read { db in
            guard try self.exists(db) else { return (0, 0) }
            // Two reads over the partial indexes (waiting rows, leased rows), never a scan of the whole ledger.
            let waiting = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*), coalesce(sum(scheduled_at <= ?), 0) FROM ledger
                    WHERE status IN ('scheduled', 'failed')
                    """, arguments: [now])
            let sending = try Int.fetchOne(db, sql: "SELECT count(*) FROM ledger WHERE status = 'sending'") ?? 0
            let pending: Int = waiting?[0] ?? 0
            let due: Int = waiting?[1] ?? 0
            return (pending + sending, due + sending)
        }
    }

    /// Sends of `users` that already went out or are going out now (not merely planned), at or after `since`,
    /// except the rows in `excluding`: what the caps are rechecked against at dispatch.
    public func sentHistory(users: [String], since: Int64, excluding: Set<String>) async throws -> [String: [SendRecord]] {
        guard !users.isEmpty else { return [:] }
        return try await pool.read { db in
            var out: [String: [SendRecord]] = [:]
            for chunk in stride(from: 0, to: users.count, by: 500) {
                let part = Array(users[chunk..<min(users.count, chunk + 500)])
                let marks = Array(repeating: "?", count: part.count).joined(separator: ",")
                var args = StatementArguments(part)
                args += [since]
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT user, coalesce(sent_at, scheduled_at), channel, topic, campaign, transactional, idempotency_key
                        FROM ledger WHERE user IN (\(marks)) AND status IN ('sending', 'sent', 'delivered', 'bounced')
                          AND coalesce(sent_at, scheduled_at) >= ?
                        """, arguments: args)
                while let r = try rows.next() {
                    let key: String = r[6]
                    guard !excluding.contains(key), let channel = ChannelKind(rawValue: r[2]) else { continue }
                    out[r[0], default: []].append(
                        SendRecord(at: r[1], channel: channel, topic: r[3], campaign: r[4], transactional: r[5]))
                }
            }
            return out
        }
    }

    // MARK: Occurrences

    /// The planning record of one occurrence, or nil.
    public func occurrence(campaign: String, id: String) async throws -> OccurrenceRecord? {
        try await pool.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT campaign, occurrence, start, status, decisions, detail FROM occurrences WHERE campaign = ? AND occurrence = ?",
                arguments: [campaign, id]
            ).map {
                OccurrenceRecord(
                    campaign: $0[0], occurrence: $0[1], start: $0[2], status: OccurrenceStatus(stored: $0[3]),
                    decisions: $0[4], detail: $0[5])
            }
        }
    }

    /// The latest start among a campaign's occurrences with one of `statuses`, or nil.
    public func latestOccurrence(campaign: String, statuses: [OccurrenceStatus]) async throws -> Int64? {
        try await pool.read { db in
            let marks = Array(repeating: "?", count: statuses.count).joined(separator: ",")
            var args = StatementArguments([campaign])
            args += StatementArguments(statuses.map(\.rawValue))
            return try Int64.fetchOne(
                db, sql: "SELECT max(start) FROM occurrences WHERE campaign = ? AND status IN (\(marks))",
                arguments: args)
        }
    }

    /// Records an occurrence's decisions and its planning record in one transaction (a crash leaves neither),
    /// and applies segment-membership changes with it; rows whose key exists are left as they are. Returns
    /// how many rows were inserted; false in `fresh` when the occurrence was already recorded.
    public func recordOccurrence(
        _ record: OccurrenceRecord, entries: [LedgerEntry], entered: [String], left: [String], at now: Int64
    ) async throws -> (inserted: Int, fresh: Bool) {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO occurrences(campaign, occurrence, start, status, decisions, detail, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(campaign, occurrence) DO NOTHING
                    """,
                arguments: [
                    record.campaign, record.occurrence, record.start, record.status.rawValue, entries.count, record.detail,
                    now, now,
                ])
            guard db.changesCount > 0 else { return (0, false) }
            let inserted = try Self.insert(entries, db)
            let add = try db.cachedStatement(
                sql: "INSERT INTO segment_members(campaign, user, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
            for user in entered { try add.execute(arguments: [record.campaign, user, now]) }
            let remove = try db.cachedStatement(sql: "DELETE FROM segment_members WHERE campaign = ? AND user = ?")
            for user in left { try remove.execute(arguments: [record.campaign, user]) }
            return (inserted, true)
        }
    }

    /// The users recorded as members of a campaign's audience (for `entered_segment`).
    public func members(campaign: String) async throws -> Set<String> {
        try await pool.read { db in
            Set(try String.fetchAll(db, sql: "SELECT user FROM segment_members WHERE campaign = ?", arguments: [campaign]))
        }
    }

    // MARK: Shards

    /// One daemon per SQLite store (the instance lock), so it holds every shard.
    public func balanceShards(owner: String, now: Int64, lease: Int64) async throws -> ShardLease {
        ShardLease(shards: Array(0..<Shards.count), until: now + lease, members: 1)
    }

    /// Nothing to give back: shards are not stored with SQLite.
    public func releaseShards(owner: String) async throws {}
}

extension SQLiteLedger: DispatchLedger {}
