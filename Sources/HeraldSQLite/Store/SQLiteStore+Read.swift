import GRDB
import HeraldCore
import HeraldLedger

extension SQLiteStore {
    /// Reads one profile given its `users` row (pk first) and its attributes.
    static func profile(_ db: Database, row: Row) throws -> (pk: Int64, profile: UserProfile) {
        let pk: Int64 = row["pk"]
        var p = UserProfile(id: row["id"])
        p.email = row["email"]
        p.phone = row["phone"]
        p.timezone = row["timezone"]
        p.locale = row["locale"]
        p.createdAt = row["created_at"]
        p.birthday = (row["birthday"] as String?).flatMap(TimestampParser.parseDate)
        p.lastSeenAt = row["last_seen_at"]
        p.pushDevices = row["push_devices"] ?? 0
        let attrs = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT n.name, a.type, a.value FROM user_attributes a
                    JOIN attribute_names n ON n.id = a.attribute_id WHERE a.user_pk = ?
                    """), arguments: [pk])
        while let a = try attrs.next() {
            p.attributes[a[0]] = StoredAttribute.decode(type: a[1], a[2])
        }
        return (pk, p)
    }

    /// One user's profile, or nil.
    public func profile(id: String) async throws -> UserProfile? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM users WHERE id = ?"), arguments: [id])
            else { return nil }
            return try Self.profile(db, row: row).profile
        }
    }

    /// One user's facts: the profile and every event (epoch seconds) grouped by name, with numbers.
    public func facts(id: String) async throws -> UserFacts? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM users WHERE id = ?"), arguments: [id])
            else { return nil }
            let (pk, profile) = try Self.profile(db, row: row)
            var facts = UserFacts(profile: profile)
            var byID: [Int64: (name: String, index: Int)] = [:]
            let events = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT e.id, n.name, e.ts FROM events e JOIN event_names n ON n.id = e.name_id
                        WHERE e.user_pk = ? ORDER BY e.name_id, e.ts, e.id
                        """), arguments: [pk])
            var all: [Int64] = []
            while let e = try events.next() {
                let name: String = e[1]
                let t = secondsOf(millis: e[2])
                byID[e[0]] = (name, facts.events[name, default: EventSeries()].timestamps.count)
                facts.events[name, default: EventSeries()].timestamps.append(t)
                all.append(t)
            }
            let numbers = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT v.event_id, k.name, v.value FROM event_numbers v
                        JOIN events e ON e.id = v.event_id JOIN property_keys k ON k.id = v.key_id
                        WHERE e.user_pk = ?
                        """), arguments: [pk])
            while let n = try numbers.next() {
                guard let (name, index) = byID[n[0]] else { continue }
                let key: String = n[1]
                let count = facts.events[name]!.timestamps.count
                if facts.events[name]!.numbers[key] == nil {
                    facts.events[name]!.numbers[key] = Array(repeating: .nan, count: count)
                }
                facts.events[name]!.numbers[key]![index] = n[2]
            }
            facts.allEventTimes = all.sorted()
            return facts
        }
    }

    /// One user's consent preferences.
    public func preferences(userID: String) async throws -> Preferences {
        try await pool.read { db in
            var p = Preferences()
            let rows = try Row.fetchCursor(
                db, sql: "SELECT kind, key, opted_out, updated_at FROM preferences WHERE user_id = ?",
                arguments: [userID])
            while let r = try rows.next() { p.apply(kind: r[0], key: r[1], optedOut: r[2], at: r[3]) }
            return p
        }
    }

    /// Records one consent choice.
    public func setPreference(userID: String, scope: PreferenceScope, optedOut: Bool, at: Int64) async throws {
        try await pool.write { db in
            let (kind, key) = scope.storage
            try db.execute(
                sql: """
                    INSERT INTO preferences(user_id, kind, key, opted_out, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(user_id, kind, key) DO UPDATE SET opted_out = excluded.opted_out,
                    updated_at = excluded.updated_at
                    """, arguments: [userID, kind, key, optedOut, at])
            try self.recordChange(db, kind: "preferences", userID: userID, rows: 1)
        }
    }

    /// Adds or replaces a suppression entry.
    public func suppress(_ entry: Suppression) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO suppressions(list, address, reason, created_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(list, address) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at
                    """, arguments: [entry.list, entry.address, entry.reason, entry.createdAt])
            try self.recordChange(db, kind: "suppressions", rows: 1)
        }
    }

    /// Removes a suppression entry; true when it existed.
    @discardableResult
    public func unsuppress(list: String, address: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM suppressions WHERE list = ? AND address = ?", arguments: [list, address])
            let removed = db.changesCount > 0
            if removed { try self.recordChange(db, kind: "suppressions", rows: 1) }
            return removed
        }
    }

    /// Entries matching any of `addresses`, ordered by list.
    public func isSuppressed(_ addresses: [String]) async throws -> [Suppression] {
        let wanted = addresses.filter { !$0.isEmpty }
        if wanted.isEmpty { return [] }
        return try await pool.read { db in
            let marks = Array(repeating: "?", count: wanted.count).joined(separator: ", ")
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT list, address, reason, created_at FROM suppressions
                    WHERE address IN (\(marks)) ORDER BY list, address
                    """, arguments: StatementArguments(wanted)
            ).map { Suppression(list: $0[0], address: $0[1], reason: $0[2], createdAt: $0[3]) }
        }
    }
}
