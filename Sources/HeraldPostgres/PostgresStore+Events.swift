import HeraldCore
import HeraldLedger

import PostgresNIO

extension PostgresStore {
    /// The unique identity of a stored event (the `events_identity` index).
    struct EventKey: Hashable {
        var pk: Int64
        var name: Int64
        var ts: Int64
        var identity: Int64
    }
}

extension PostgresStore {
    /// Inserts a batch of events in one transaction, creating unknown users and skipping duplicates.
    ///
    /// The same rules as `SQLiteStore.insertEvents`: events are written in (user, name, time, batch index)
    /// order, so of two events in one batch that share a message id the earlier one in that order is kept;
    /// duplicates are found by the unique (user, name, time, `StableHash.eventIdentity`) index and by
    /// `event_message_ids` for message ids across users.
    public func insertEvents(_ batch: [EventRecord]) async throws -> BatchResult {
        try await insertEventsReportingNew(batch, awaitingPlanning: []).result
    }

    /// `insertEvents`, also saying which of `batch` (by index) were new: only those trigger event campaigns.
    /// New events named in `awaitingPlanning` are recorded in `events_awaiting_planning`, in the same
    /// transaction, until `markPlanned` clears them (`SQLiteStore.insertEventsReportingNew`); a user an event
    /// creates gets its earliest event's time as `created_at`, moved back by an older event stored later.
    ///
    /// A few statements per batch: the unknown users (one insert, one read, and one update when an older event
    /// moves an event-created user's `created_at` back), the names (one insert and one read), the message ids
    /// (one insert, whose `RETURNING` says which are new), the events (one insert, whose `RETURNING` says which
    /// identities are new), their numbers (one insert) and the events awaiting planning (one insert).
    public func insertEventsReportingNew(_ batch: [EventRecord], awaitingPlanning: Set<String>) async throws -> (
        result: BatchResult, new: [Int]
    ) {
        let now = clock()
        var userIDs: [String] = []
        var seenUsers = Set<String>()
        for e in batch where seenUsers.insert(e.userID).inserted { userIDs.append(e.userID) }
        let earliest = EventRecord.earliestByUser(batch)
        let firstSeen = userIDs.map { earliest[$0] ?? 0 }
        let names = Set(batch.map(\.name))
        return try await write("insertEvents") { conn in
            var result = BatchResult()
            var new: [Int] = []
            // Unknown users, created in order of first appearance (as SQLite's loop creates them).
            var created = 0
            var pkOf: [String: Int64] = [:]
            if !userIDs.isEmpty {
                for try await _ in try await conn.query(
                    """
                    INSERT INTO users(id, created_at, created_by_event, inserted_at, updated_at)
                    SELECT id, at, true, \(now), \(now)
                    FROM unnest(\(userIDs)::text[], \(firstSeen)::bigint[]) WITH ORDINALITY AS t(id, at, ord)
                    ORDER BY ord
                    ON CONFLICT (id) DO NOTHING
                    RETURNING pk
                    """, logger: logger
                ).decode(Int64.self) {
                    created += 1
                }
                // Users an event created earlier whose earliest event this batch moves back.
                var olderPKs: [Int64] = []
                var olderTimes: [Int64] = []
                for try await (pk, id, eventCreatedAt) in try await conn.query(
                    """
                    SELECT pk, id, CASE WHEN created_by_event THEN created_at END
                    FROM users WHERE id = ANY(\(userIDs)::text[])
                    """, logger: logger
                ).decode((Int64, String, Int64?).self) {
                    pkOf[id] = pk
                    if let at = eventCreatedAt, let first = earliest[id], first < at {
                        olderPKs.append(pk)
                        olderTimes.append(first)
                    }
                }
                if !olderPKs.isEmpty {
                    try await conn.query(
                        """
                        UPDATE users u SET created_at = t.at
                        FROM unnest(\(olderPKs)::bigint[], \(olderTimes)::bigint[]) AS t(pk, at)
                        WHERE u.pk = t.pk AND u.created_by_event AND u.created_at > t.at
                        """, logger: logger)
                }
            }
            let nameIDs = try await self.intern(conn, table: "event_names", names)
            var keys: [(pk: Int64, name: Int64, ts: Int64, index: Int)] = []
            keys.reserveCapacity(batch.count)
            for (index, e) in batch.enumerated() {
                guard let pk = pkOf[e.userID], let name = nameIDs[e.name] else {
                    throw PostgresStoreError("PostgresStore.insertEvents: user \(e.userID) or event \(e.name) vanished")
                }
                keys.append((pk, name, e.timestampMillis, index))
            }
            keys.sort { a, b in (a.pk, a.name, a.ts, a.index) < (b.pk, b.name, b.ts, b.index) }

            // Message ids, unique across users: the first event (in write order) with a new one goes on.
            var candidates = keys
            let messageIDs = keys.compactMap { batch[$0.index].messageID }
            if !messageIDs.isEmpty {
                var fresh = Set<String>()
                for try await m in try await conn.query(
                    """
                    INSERT INTO event_message_ids(message_id)
                    SELECT m FROM unnest(\(messageIDs)::text[]) WITH ORDINALITY AS t(m, ord) ORDER BY ord
                    ON CONFLICT (message_id) DO NOTHING
                    RETURNING message_id
                    """, logger: logger
                ).decode(String.self) {
                    fresh.insert(m)
                }
                candidates = []
                for k in keys {
                    if let m = batch[k.index].messageID {
                        guard fresh.remove(m) != nil else {
                            result.unchanged += 1
                            continue
                        }
                    }
                    candidates.append(k)
                }
            }

            // The events, in write order; the identity index skips the duplicates.
            var stored: [EventKey: Int64] = [:]
            var pendingUsers: [String] = []
            var pendingNames: [String] = []
            var pendingTimes: [Int64] = []
            if !candidates.isEmpty {
                let pks = candidates.map { $0.pk }
                let nameColumn = candidates.map { $0.name }
                let ts = candidates.map { $0.ts }
                let properties = candidates.map { batch[$0.index].propertiesJSON ?? "" }
                let hasProperties = candidates.map { batch[$0.index].propertiesJSON != nil }
                let messages = candidates.map { batch[$0.index].messageID ?? "" }
                let hasMessage = candidates.map { batch[$0.index].messageID != nil }
                let identities = candidates.map { StableHash.eventIdentity(batch[$0.index]) }
                for try await (id, pk, name, time, identity) in try await conn.query(
                    """
                    INSERT INTO events(user_pk, name_id, ts, properties, message_id, identity)
                    SELECT pk, name, ts, CASE WHEN has_p THEN p END, CASE WHEN has_m THEN m END, identity
                    FROM unnest(\(pks)::bigint[], \(nameColumn)::bigint[], \(ts)::bigint[], \(properties)::text[],
                                \(hasProperties)::boolean[], \(messages)::text[], \(hasMessage)::boolean[],
                                \(identities)::bigint[]) WITH ORDINALITY
                         AS t(pk, name, ts, p, has_p, m, has_m, identity, ord)
                    ORDER BY ord
                    ON CONFLICT (user_pk, name_id, ts, identity) DO NOTHING
                    RETURNING id, user_pk, name_id, ts, identity
                    """, logger: logger
                ).decode((Int64, Int64, Int64, Int64, Int64).self) {
                    stored[EventKey(pk: pk, name: name, ts: time, identity: identity)] = id
                }
                var numberEvents: [Int64] = []
                var numberKeys: [String] = []
                var numberValues: [Double] = []
                for (k, identity) in zip(candidates, identities) {
                    // The first candidate of an identity is the one inserted; later ones are duplicates.
                    guard let eventID = stored.removeValue(forKey: EventKey(pk: k.pk, name: k.name, ts: k.ts, identity: identity))
                    else {
                        result.unchanged += 1
                        continue
                    }
                    result.inserted += 1
                    new.append(k.index)
                    let e = batch[k.index]
                    if awaitingPlanning.contains(e.name) {
                        pendingUsers.append(e.userID)
                        pendingNames.append(e.name)
                        pendingTimes.append(e.timestampMillis)
                    }
                    for (key, v) in batch[k.index].numbers where v.isFinite {
                        numberEvents.append(eventID)
                        numberKeys.append(key)
                        numberValues.append(v)
                    }
                }
                if !numberEvents.isEmpty {
                    let keyIDs = try await self.intern(conn, table: "property_keys", Set(numberKeys))
                    let keyColumn = try numberKeys.map { key in
                        guard let id = keyIDs[key] else {
                            throw PostgresStoreError("PostgresStore.insertEvents: property \(key) was not interned")
                        }
                        return id
                    }
                    try await conn.query(
                        """
                        INSERT INTO event_numbers(event_id, key_id, value)
                        SELECT e, k, v FROM unnest(\(numberEvents)::bigint[], \(keyColumn)::bigint[],
                                                   \(numberValues)::double precision[]) AS t(e, k, v)
                        ORDER BY e, k
                        ON CONFLICT (event_id, key_id) DO UPDATE SET value = excluded.value
                        """, logger: logger)
                }
            }
            if !pendingUsers.isEmpty {
                try await conn.query(
                    """
                    INSERT INTO events_awaiting_planning(user_id, name, ts)
                    SELECT * FROM unnest(
                      \(pendingUsers)::text[], \(pendingNames)::text[], \(pendingTimes)::bigint[])
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            var k: Int64 = 0
            if created > 0 {
                try await self.recordChange(conn, kind: "users", rows: created)
                k = 1
            }
            try await self.recordChange(conn, kind: "events", rows: result.inserted, k: k)
            return (result, new.sorted())
        }
    }
}
