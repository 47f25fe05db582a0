import GRDB
import HeraldCore
import HeraldLedger

extension SQLiteStore {
    /// Fills the user cache with one scan when it is empty (far cheaper than one lookup per new id).
    func warmUserCache() async throws {
        guard userCache.withLock({ $0.pk.isEmpty }) else { return }
        let all = try await pool.read { db -> UserCache in
            let n = try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0
            guard n > 0, n <= Self.userCacheLimit else { return UserCache() }
            var cache = UserCache()
            cache.pk.reserveCapacity(n)
            let rows = try Row.fetchCursor(
                db, sql: "SELECT id, pk, CASE WHEN created_by_event <> 0 THEN created_at END FROM users")
            while let r = try rows.next() {
                let pk: Int64 = r[1]
                cache.pk[r[0]] = pk
                if let at: Int64 = r[2] { cache.eventCreatedAt[pk] = at }
            }
            return cache
        }
        if !all.pk.isEmpty { userCache.withLock { c in if c.pk.isEmpty { c = all } } }
    }

    /// Inserts a batch of events in one transaction, creating unknown users and skipping duplicates.
    ///
    /// Rows are written in (user, name, time) order, so of two events in one batch that share a
    /// message id, the earlier one is kept. Duplicates are found by the unique (user, name, time,
    /// `StableHash.eventIdentity`) index, and by `event_message_ids` for message ids across users.
    public func insertEvents(_ batch: [EventRecord]) async throws -> BatchResult {
        try await insertEventsReportingNew(batch, awaitingPlanning: []).result
    }

    /// `insertEvents`, also saying which of `batch` (by index) were new: only those trigger event campaigns,
    /// so a client's retry of an acknowledged call never triggers twice. New events named in
    /// `awaitingPlanning` are recorded in `events_awaiting_planning`, in the same transaction, until
    /// `markPlanned` clears them: what a crash before planning leaves for the next start.
    ///
    /// A user an event creates gets the time of its earliest event as `created_at` (`created_by_event`), and an
    /// older event stored later moves it back; a `created_at` written by a profile write stays as written.
    public func insertEventsReportingNew(_ batch: [EventRecord], awaitingPlanning: Set<String>) async throws -> (
        result: BatchResult, new: [Int]
    ) {
        if batch.count >= 1000 { try await warmUserCache() }
        let now = clock()
        let earliest = EventRecord.earliestByUser(batch)
        let (result, fresh, new) = try await pool.write { db -> (BatchResult, FreshIDs, [Int]) in
            var fresh = FreshIDs()
            var result = BatchResult()
            var new: [Int] = []
            let insertUser = RawStatement(db, try db.cachedStatement(
                sql: """
                    INSERT INTO users(id, created_at, created_by_event, inserted_at, updated_at)
                    VALUES (?, ?, 1, ?, ?) ON CONFLICT(id) DO NOTHING
                    """))
            let insertEvent = RawStatement(db, try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO events(user_pk, name_id, ts, properties, message_id, identity)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """))
            // OR IGNORE, not ON CONFLICT(…): during a bulk load the identity index is absent and the
            // duplicates go in, to be removed when the index is rebuilt (see beginBulkLoad).
            let insertMessageID = RawStatement(db, try db.cachedStatement(
                sql: "INSERT INTO event_message_ids(message_id) VALUES (?) ON CONFLICT(message_id) DO NOTHING"))
            let insertNumber = RawStatement(db, try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO event_numbers(event_id, key_id, value) VALUES (?, ?, ?)"))
            var created = 0
            // Users an event created before this batch, which holds an older event of theirs: pk → its time.
            var older: [Int64: Int64] = [:]
            // Resolve users and names first, then insert in (user, name, time) order so that the
            // (user_pk, name_id, ts) index is written in order within the transaction.
            var keys = [(pk: Int64, name: Int64, ts: Int64, index: Int)]()
            keys.reserveCapacity(batch.count)
            var lastUser = ""
            var lastPK: Int64 = 0
            for (index, e) in batch.enumerated() {
                var pk = lastPK
                if e.userID != lastUser || lastUser.isEmpty {
                    let first = earliest[e.userID] ?? .max
                    if let known = self.userCache.withLock({ c in
                        c.pk[e.userID].map { (pk: $0, createdAt: c.eventCreatedAt[$0]) }
                    }) {
                        pk = known.pk
                        if let createdAt = known.createdAt, first < createdAt { older[pk] = first }
                    } else if let known = fresh.users[e.userID] {
                        pk = known  // met earlier in this batch, with the batch's earliest time
                    } else {
                        insertUser.bind(1, e.userID)
                        insertUser.bind(2, first)
                        insertUser.bind(3, now)
                        insertUser.bind(4, now)
                        try insertUser.run()
                        if db.changesCount > 0 {
                            pk = db.lastInsertedRowID
                            created += 1
                            fresh.eventCreatedAt[pk] = first
                        } else {
                            pk = try self.userPK(db, e.userID, &fresh) ?? 0
                            if let createdAt = fresh.eventCreatedAt[pk], first < createdAt { older[pk] = first }
                        }
                        fresh.users[e.userID] = pk
                    }
                    lastUser = e.userID
                    lastPK = pk
                }
                let nameID = try self.nameCache.withLock({ $0[e.name] })
                    ?? Self.intern(db, table: "event_names", name: e.name, cache: [:], fresh: &fresh.names)
                keys.append((pk, nameID, e.timestampMillis, index))
            }
            keys.sort { a, b in (a.pk, a.name, a.ts, a.index) < (b.pk, b.name, b.ts, b.index) }
            var markPending: RawStatement?
            if !awaitingPlanning.isEmpty {
                markPending = RawStatement(db, try db.cachedStatement(
                    sql: """
                        INSERT INTO events_awaiting_planning(user_id, name, ts) VALUES (?, ?, ?)
                        ON CONFLICT DO NOTHING
                        """))
            }
            for k in keys {
                let e = batch[k.index]
                if let messageID = e.messageID {
                    // A message id is unique across users: a re-sent event may carry a new time.
                    insertMessageID.bind(1, messageID)
                    try insertMessageID.run()
                    if db.changesCount == 0 {
                        result.unchanged += 1
                        continue
                    }
                }
                insertEvent.bind(1, k.pk)
                insertEvent.bind(2, k.name)
                insertEvent.bind(3, e.timestampMillis)
                insertEvent.bind(4, e.propertiesJSON)
                insertEvent.bind(5, e.messageID)
                insertEvent.bind(6, StableHash.eventIdentity(e))
                try insertEvent.run()
                guard db.changesCount > 0 else {
                    result.unchanged += 1
                    continue
                }
                result.inserted += 1
                new.append(k.index)
                let eventID = db.lastInsertedRowID
                if let markPending, awaitingPlanning.contains(e.name) {
                    markPending.bind(1, e.userID)
                    markPending.bind(2, e.name)
                    markPending.bind(3, e.timestampMillis)
                    try markPending.run()
                }
                if e.numbers.isEmpty { continue }
                for (key, v) in e.numbers where v.isFinite {
                    let kid = try self.keyCache.withLock({ $0[key] })
                        ?? Self.intern(db, table: "property_keys", name: key, cache: [:], fresh: &fresh.keys)
                    insertNumber.bind(1, eventID)
                    insertNumber.bind(2, kid)
                    insertNumber.bind(3, v)
                    try insertNumber.run()
                }
            }
            if !older.isEmpty {
                // Guarded: another process may have moved it back further, or a profile write given it.
                let lower = RawStatement(db, try db.cachedStatement(
                    sql: """
                        UPDATE users SET created_at = ?1 WHERE pk = ?2 AND created_by_event = 1 AND created_at > ?1
                        """))
                for (pk, at) in older {
                    lower.bind(1, at)
                    lower.bind(2, pk)
                    try lower.run()
                    if db.changesCount > 0 { fresh.eventCreatedAt[pk] = at }
                }
            }
            if created > 0 { try self.recordChange(db, kind: "users", rows: created) }
            try self.recordChange(db, kind: "events", rows: result.inserted)
            return (result, fresh, new.sorted())
        }
        publish(fresh)
        return (result, new)
    }
}
