import GRDB
import HeraldCore
import HeraldLedger

extension SQLiteStore {
    /// Profiles, consent, suppressions and the named events of `users` (addresses in `addresses`), in one read:
    /// the dispatcher's fresh look before it sends (never a stale in-memory copy, docs/architecture.md).
    public func dispatchFacts(
        users: [String], addresses: [String], eventNames: Set<String>, eventsSince: Int64
    ) async throws -> DispatchFacts {
        try await pool.read { db in
            var facts = DispatchFacts(profiles: [:], consent: [:], suppressions: [:], events: [:])
            let profile = try db.cachedStatement(sql: "SELECT * FROM users WHERE id = ?")
            var pks: [Int64: String] = [:]
            for user in Set(users) {
                guard let row = try Row.fetchOne(profile, arguments: [user]) else { continue }
                let (pk, p) = try Self.profile(db, row: row)
                facts.profiles[user] = p
                pks[pk] = user
            }
            let unique = Array(Set(users))
            for chunk in Self.chunks(unique) {
                let rows = try Row.fetchCursor(
                    db,
                    sql: "SELECT user_id, kind, key FROM preferences WHERE opted_out = 1 AND user_id IN (\(Self.marks(chunk.count)))",
                    arguments: StatementArguments(chunk))
                while let r = try rows.next() {
                    let user: String = r[0]
                    facts.consent[user, default: ConsentState()].optOut(kind: r[1], key: r[2])
                }
            }
            let keys = Array(Set(addresses + users).filter { !$0.isEmpty })
            for chunk in Self.chunks(keys) {
                let rows = try Row.fetchCursor(
                    db,
                    sql: "SELECT address, list FROM suppressions WHERE address IN (\(Self.marks(chunk.count))) ORDER BY list",
                    arguments: StatementArguments(chunk))
                while let r = try rows.next() { facts.suppressions[r[0], default: []].append(r[1]) }
            }
            if !eventNames.isEmpty, !pks.isEmpty {
                let names = Array(eventNames)
                let byName = try Row.fetchAll(
                    db, sql: "SELECT id, name FROM event_names WHERE name IN (\(Self.marks(names.count)))",
                    arguments: StatementArguments(names))
                let events = try db.cachedStatement(
                    sql: "SELECT ts FROM events WHERE user_pk = ? AND name_id = ? AND ts >= ? ORDER BY ts")
                for (pk, user) in pks {
                    for n in byName {
                        let name: String = n[1]
                        let times = try Int64.fetchAll(events, arguments: [pk, n[0], eventsSince * 1000])
                        if !times.isEmpty { facts.events[user, default: [:]][name] = times.map { secondsOf(millis: $0) } }
                    }
                }
            }
            return facts
        }
    }

    /// Events stored through the API whose event campaigns are not yet planned (`insertEventsReportingNew`'s
    /// `awaitingPlanning`), oldest first, at most `limit`.
    public func eventsAwaitingPlanning(limit: Int) async throws -> [EventRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT user_id, name, ts FROM events_awaiting_planning ORDER BY ts, user_id, name LIMIT ?",
                arguments: [limit]
            ).map { EventRecord(userID: $0[0], name: $0[1], timestampMillis: $0[2]) }
        }
    }

    /// Clears `events` from the events awaiting planning, once their planning is recorded.
    public func markPlanned(_ events: [EventRecord]) async throws {
        guard !events.isEmpty else { return }
        try await pool.write { db in
            let delete = try db.cachedStatement(
                sql: "DELETE FROM events_awaiting_planning WHERE user_id = ? AND name = ? AND ts = ?")
            for e in events { try delete.execute(arguments: [e.userID, e.name, e.timestampMillis]) }
        }
    }

    static func chunks(_ values: [String]) -> [[String]] {
        stride(from: 0, to: values.count, by: 500).map { Array(values[$0..<min(values.count, $0 + 500)]) }
    }

    static func marks(_ n: Int) -> String { Array(repeating: "?", count: n).joined(separator: ",") }
}
