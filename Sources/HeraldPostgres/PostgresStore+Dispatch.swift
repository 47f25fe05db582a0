import HeraldCore
import HeraldLedger
import PostgresNIO

extension PostgresStore {
    /// Profiles, consent, suppressions and the named events of `users` (addresses in `addresses`), in one read
    /// (one snapshot, five queries whatever the number of users): the dispatcher's fresh look before it sends.
    public func dispatchFacts(
        users: [String], addresses: [String], eventNames: Set<String>, eventsSince: Int64
    ) async throws -> DispatchFacts {
        let unique = Array(Set(users))
        let keys = Array(Set(addresses + users).filter { !$0.isEmpty })
        let names = Array(eventNames)
        return try await read("dispatchFacts") { conn in
            var facts = DispatchFacts(profiles: [:], consent: [:], suppressions: [:], events: [:])
            var userOf: [Int64: String] = [:]
            for (user, loaded) in try await self.loadProfiles(conn, ids: unique) {
                facts.profiles[user] = loaded.profile
                userOf[loaded.pk] = user
            }
            if !unique.isEmpty {
                for try await (user, kind, key) in try await conn.query(
                    "SELECT user_id, kind, key FROM preferences WHERE opted_out AND user_id = ANY(\(unique)::text[])",
                    logger: logger
                ).decode((String, String, String).self) {
                    facts.consent[user, default: ConsentState()].optOut(kind: kind, key: key)
                }
            }
            if !keys.isEmpty {
                for try await (address, list) in try await conn.query(
                    "SELECT address, list FROM suppressions WHERE address = ANY(\(keys)::text[]) ORDER BY list",
                    logger: logger
                ).decode((String, String).self) {
                    facts.suppressions[address, default: []].append(list)
                }
            }
            if !names.isEmpty, !userOf.isEmpty {
                let pks = Array(userOf.keys)
                let since = eventsSince &* 1000
                for try await (pk, name, ts) in try await conn.query(
                    """
                    SELECT e.user_pk, n.name, e.ts FROM events e JOIN event_names n ON n.id = e.name_id
                    WHERE e.user_pk = ANY(\(pks)::bigint[]) AND n.name = ANY(\(names)::text[]) AND e.ts >= \(since)
                    ORDER BY e.user_pk, e.name_id, e.ts
                    """, logger: logger
                ).decode((Int64, String, Int64).self) {
                    guard let user = userOf[pk] else { continue }
                    facts.events[user, default: [:]][name, default: []].append(Self.seconds(millis: ts))
                }
            }
            return facts
        }
    }

    /// Events stored through the API whose event campaigns are not yet planned (`insertEventsReportingNew`'s
    /// `awaitingPlanning`), oldest first, at most `limit`.
    public func eventsAwaitingPlanning(limit: Int) async throws -> [EventRecord] {
        let limit = Int64(max(0, limit))
        return try await read("eventsAwaitingPlanning") { conn in
            var out: [EventRecord] = []
            for try await (user, name, ts) in try await conn.query(
                "SELECT user_id, name, ts FROM events_awaiting_planning ORDER BY ts, user_id, name LIMIT \(limit)",
                logger: logger
            ).decode((String, String, Int64).self) {
                out.append(EventRecord(userID: user, name: name, timestampMillis: ts))
            }
            return out
        }
    }

    /// Clears `events` from the events awaiting planning, once their planning is recorded.
    public func markPlanned(_ events: [EventRecord]) async throws {
        guard !events.isEmpty else { return }
        let users = events.map(\.userID)
        let names = events.map(\.name)
        let times = events.map(\.timestampMillis)
        try await write("markPlanned") { conn in
            _ = try await conn.query(
                """
                DELETE FROM events_awaiting_planning p
                USING unnest(\(users)::text[], \(names)::text[], \(times)::bigint[]) AS t(user_id, name, ts)
                WHERE p.user_id = t.user_id AND p.name = t.name AND p.ts = t.ts
                """, logger: logger)
        }
    }
}
