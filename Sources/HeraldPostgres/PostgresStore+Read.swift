import HeraldCore
import HeraldLedger

import PostgresNIO

extension PostgresStore {
    /// The profiles of `ids` that exist, by id, with their pks: two queries (users, then attributes).
    func loadProfiles(_ conn: PostgresConnection, ids: [String]) async throws -> [String: (
        pk: Int64, profile: UserProfile
    )] {
        guard !ids.isEmpty else { return [:] }
        var out: [String: (pk: Int64, profile: UserProfile)] = [:]
        var idOf: [Int64: String] = [:]
        for try await (pk, id, email, phone, timezone, locale, createdAt, birthday, lastSeenAt, devices) in try await conn.query(
            """
            SELECT pk, id, email, phone, timezone, locale, created_at, birthday, last_seen_at, push_devices
            FROM users WHERE id = ANY(\(ids)::text[])
            """, logger: logger
        ).decode((Int64, String, String?, String?, String?, String?, Int64?, String?, Int64?, Int32).self) {
            var p = UserProfile(
                id: id, email: email, phone: phone, timezone: timezone, locale: locale, createdAt: createdAt,
                birthday: birthday.flatMap(TimestampParser.parseDate), lastSeenAt: lastSeenAt)
            p.pushDevices = Int(devices)
            out[id] = (pk, p)
            idOf[pk] = id
        }
        guard !idOf.isEmpty else { return out }
        let pks = Array(idOf.keys)
        for try await (pk, name, type, number, integer, text, list) in try await conn.query(
            """
            SELECT a.user_pk, n.name, a.type, a.value_num, a.value_int, a.value_text, a.value_list
            FROM user_attributes a JOIN attribute_names n ON n.id = a.attribute_id
            WHERE a.user_pk = ANY(\(pks)::bigint[])
            """, logger: logger
        ).decode((Int64, String, Int64, Double?, Int64?, String?, [String]?).self) {
            guard let id = idOf[pk] else { continue }
            out[id]?.profile.attributes[name] = AttributeArrays.decode(
                type: type, number: number, integer: integer, text: text, list: list)
        }
        return out
    }

    /// One user's profile, or nil.
    public func profile(id: String) async throws -> UserProfile? {
        try await read("profile(id:)") { conn in
            try await self.loadProfiles(conn, ids: [id])[id]?.profile
        }
    }

    /// One user's facts: the profile and every event (epoch seconds) grouped by name, with numbers.
    public func facts(id: String) async throws -> UserFacts? {
        try await read("facts(id:)") { conn in
            guard let (pk, profile) = try await self.loadProfiles(conn, ids: [id])[id] else { return nil }
            var facts = UserFacts(profile: profile)
            var byID: [Int64: (name: String, index: Int)] = [:]
            var all: [Int64] = []
            for try await (eventID, name, ts) in try await conn.query(
                """
                SELECT e.id, n.name, e.ts FROM events e JOIN event_names n ON n.id = e.name_id
                WHERE e.user_pk = \(pk) ORDER BY e.name_id, e.ts, e.id
                """, logger: logger
            ).decode((Int64, String, Int64).self) {
                let t = Self.seconds(millis: ts)
                byID[eventID] = (name, facts.events[name, default: EventSeries()].timestamps.count)
                facts.events[name, default: EventSeries()].timestamps.append(t)
                all.append(t)
            }
            for try await (eventID, key, value) in try await conn.query(
                """
                SELECT v.event_id, k.name, v.value FROM event_numbers v
                JOIN events e ON e.id = v.event_id JOIN property_keys k ON k.id = v.key_id
                WHERE e.user_pk = \(pk)
                """, logger: logger
            ).decode((Int64, String, Double).self) {
                guard let (name, index) = byID[eventID], var series = facts.events[name] else { continue }
                var column = series.numbers[key] ?? Array(repeating: .nan, count: series.timestamps.count)
                column[index] = value
                series.numbers[key] = column
                facts.events[name] = series
            }
            facts.allEventTimes = all.sorted()
            return facts
        }
    }

    /// One user's consent preferences.
    public func preferences(userID: String) async throws -> Preferences {
        try await read("preferences(userID:)") { conn in
            var p = Preferences()
            for try await (kind, key, out, at) in try await conn.query(
                "SELECT kind, key, opted_out, updated_at FROM preferences WHERE user_id = \(userID)", logger: logger
            ).decode((String, String, Bool, Int64).self) {
                p.apply(kind: kind, key: key, optedOut: out, at: at)
            }
            return p
        }
    }

    /// Records one consent choice.
    public func setPreference(userID: String, scope: PreferenceScope, optedOut: Bool, at: Int64) async throws {
        let (kind, key) = scope.storage
        try await write("setPreference") { conn in
            try await conn.query(
                """
                INSERT INTO preferences(user_id, kind, key, opted_out, updated_at)
                VALUES (\(userID), \(kind), \(key), \(optedOut), \(at))
                ON CONFLICT (user_id, kind, key) DO UPDATE SET opted_out = excluded.opted_out,
                  updated_at = excluded.updated_at
                """, logger: logger)
            try await self.recordChange(conn, kind: "preferences", userID: userID, rows: 1)
        }
    }

    /// Adds or replaces a suppression entry.
    public func suppress(_ entry: Suppression) async throws {
        try await write("suppress") { conn in
            try await conn.query(
                """
                INSERT INTO suppressions(list, address, reason, created_at)
                VALUES (\(entry.list), \(entry.address), \(entry.reason), \(entry.createdAt))
                ON CONFLICT (list, address) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at
                """, logger: logger)
            try await self.recordChange(conn, kind: "suppressions", rows: 1)
        }
    }

    /// Removes a suppression entry; true when it existed.
    @discardableResult
    public func unsuppress(list: String, address: String) async throws -> Bool {
        try await write("unsuppress") { conn in
            let removed = try await conn.query(
                "DELETE FROM suppressions WHERE list = \(list) AND address = \(address) RETURNING list",
                logger: logger
            ).decode(String.self).allRows().count > 0
            if removed { try await self.recordChange(conn, kind: "suppressions", rows: 1) }
            return removed
        }
    }

    /// Entries matching any of `addresses`, ordered by list (then address).
    public func isSuppressed(_ addresses: [String]) async throws -> [Suppression] {
        let wanted = addresses.filter { !$0.isEmpty }
        if wanted.isEmpty { return [] }
        return try await read("isSuppressed") { conn in
            var out: [Suppression] = []
            for try await (list, address, reason, createdAt) in try await conn.query(
                """
                SELECT list, address, reason, created_at FROM suppressions
                WHERE address = ANY(\(wanted)::text[]) ORDER BY list, address
                """, logger: logger
            ).decode((String, String, String, Int64).self) {
                out.append(Suppression(list: list, address: address, reason: reason, createdAt: createdAt))
            }
            return out
        }
    }

    /// Every user's opt-outs and every suppression entry, in two reads of one snapshot.
    /// Users who never opted out are absent (opted in); suppressions map an address or user id to its lists.
    public func consentBook() async throws -> (consent: [String: ConsentState], suppressions: [String: [String]]) {
        try await read("consentBook") { conn in
            var consent: [String: ConsentState] = [:]
            for try await (user, kind, key) in try await conn.query(
                "SELECT user_id, kind, key FROM preferences WHERE opted_out", logger: logger
            ).decode((String, String, String).self) {
                consent[user, default: ConsentState()].optOut(kind: kind, key: key)
            }
            var suppressions: [String: [String]] = [:]
            for try await (address, list) in try await conn.query(
                "SELECT address, list FROM suppressions ORDER BY list", logger: logger
            ).decode((String, String).self) {
                suppressions[address, default: []].append(list)
            }
            return (consent, suppressions)
        }
    }

    /// The ids of every user whose phone is `number`, in E.164 (`+…`) or as a gateway reports it
    /// (digits without `+`, or with an international `00` prefix), in id order (by bytes).
    public func usersWithPhone(_ number: String) async throws -> [String] {
        let candidates = GatewayNumber.storedForms(number)
        guard !candidates.isEmpty else { return [] }
        return try await read("usersWithPhone") { conn in
            try await conn.query(
                "SELECT id FROM users WHERE phone = ANY(\(candidates)::text[]) ORDER BY id", logger: logger
            ).decode(String.self).allRows()
        }
    }
}
