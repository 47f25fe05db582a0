import HeraldCore
import HeraldStore
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
                    var c = facts.consent[user] ?? ConsentState()
                    switch Self.scope(kind: kind, key: key) {
                    case .global: c.global = true
                    case .channel(let ch): c.channels.insert(ch)
                    case .topic(let t): c.topics.insert(t)
                    case nil: continue
                    }
                    facts.consent[user] = c
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

    /// Events named one of `names` among the last `lastRows` stored (by insertion order, i.e. event id) with a
    /// time at or after `sinceMillis`, oldest first: what a crash may have stored without planning the
    /// campaigns they trigger. (Event ids may have gaps here, so the last rows are counted, not id arithmetic.)
    public func recentEvents(names: Set<String>, lastRows: Int, sinceMillis: Int64) async throws -> [EventRecord] {
        guard !names.isEmpty else { return [] }
        let list = Array(names)
        let last = Int64(max(0, lastRows))
        return try await read("recentEvents") { conn in
            var out: [EventRecord] = []
            for try await (user, name, ts, messageID) in try await conn.query(
                """
                SELECT u.id, n.name, e.ts, e.message_id
                FROM (SELECT id, user_pk, name_id, ts, message_id FROM events ORDER BY id DESC LIMIT \(last)) e
                JOIN users u ON u.pk = e.user_pk JOIN event_names n ON n.id = e.name_id
                WHERE e.ts >= \(sinceMillis) AND n.name = ANY(\(list)::text[])
                ORDER BY e.id
                """, logger: logger
            ).decode((String, String, Int64, String?).self) {
                out.append(EventRecord(userID: user, name: name, timestampMillis: ts, messageID: messageID))
            }
            return out
        }
    }
}
