import Foundation
import HeraldCore
import HeraldLedger

import PostgresNIO

extension PostgresStore {
    /// The reserved fields of a round of upserts as parallel arrays, with two bit masks per user: `present`
    /// (the upsert sets the field) and `valued` (it sets it to a value rather than clearing it). Bit k is field k
    /// of `PostgresStore.reservedColumns`.
    struct ReservedArrays {
        var ids: [String] = []
        var present: [Int64] = []
        var valued: [Int64] = []
        var email: [String] = []
        var phone: [String] = []
        var timezone: [String] = []
        var locale: [String] = []
        var createdAt: [Int64] = []
        var birthday: [String] = []
        var lastSeenAt: [Int64] = []

        /// The arrays of `users`.
        init(_ users: [UserUpsert]) {
            for u in users {
                var present: Int64 = 0
                var valued: Int64 = 0
                func text(_ field: String??, _ bit: Int64, _ column: inout [String]) {
                    if let f = field {
                        present |= bit
                        if f != nil { valued |= bit }
                        column.append(f ?? "")
                    } else {
                        column.append("")
                    }
                }
                func integer(_ field: Int64??, _ bit: Int64, _ column: inout [Int64]) {
                    if let f = field {
                        present |= bit
                        if f != nil { valued |= bit }
                        column.append(f ?? 0)
                    } else {
                        column.append(0)
                    }
                }
                ids.append(u.id)
                text(u.email, 1, &email)
                text(u.phone, 2, &phone)
                text(u.timezone, 4, &timezone)
                text(u.locale, 8, &locale)
                integer(u.createdAt, 16, &createdAt)
                text(u.birthday.map { $0?.description }, 32, &birthday)
                integer(u.lastSeenAt, 64, &lastSeenAt)
                self.present.append(present)
                self.valued.append(valued)
            }
        }
    }

    /// Custom attribute values to write, as parallel arrays (one row per user and attribute); see
    /// `PostgresStore.migrations` for the `type` codes and the `value_*` column each uses.
    struct AttributeArrays {
        var pk: [Int64] = []
        var attribute: [Int64] = []
        var type: [Int64] = []
        var number: [Double] = []
        var integer: [Int64] = []
        var text: [String] = []
        /// Lists as JSON arrays of strings (expanded into `text[]` by the server).
        var list: [String] = []

        /// Appends a non-null value.
        mutating func append(pk: Int64, attribute: Int64, _ value: Value) throws {
            var t: Int64 = 0
            var d = Double.nan
            var i: Int64 = 0
            var s = ""
            var l = "[]"
            switch value {
            case .null: return
            case .number(let v):
                t = 1
                d = v
            case .bool(let b):
                t = 2
                i = b ? 1 : 0
            case .string(let v):
                t = 3
                s = v
            case .timestamp(let v):
                t = 4
                i = v
            case .list(let items):
                t = 5
                l = String(decoding: try JSONEncoder().encode(items), as: UTF8.self)
            }
            self.pk.append(pk)
            self.attribute.append(attribute)
            type.append(t)
            number.append(d)
            integer.append(i)
            text.append(s)
            list.append(l)
        }

        /// The value of a stored row, as `SQLiteStore` decodes its (type, value) pairs: a value missing for its
        /// type (a NaN number is stored as NULL) is `.null`.
        static func decode(type: Int64, number: Double?, integer: Int64?, text: String?, list: [String]?) -> Value {
            switch type {
            case 1: number.map(Value.number) ?? .null
            case 2: integer.map { .bool($0 != 0) } ?? .null
            case 3: text.map(Value.string) ?? .null
            case 4: integer.map(Value.timestamp) ?? .null
            case 5: list.map(Value.list) ?? .null
            default: .null
            }
        }
    }
}

extension PostgresStore {
    /// The reserved columns of `users`, bit k of the masks being column k.
    static let reservedColumns = ["email", "phone", "timezone", "locale", "created_at", "birthday", "last_seen_at"]

    /// Upserts a batch of users in one transaction: present fields are written, absent ones kept.
    ///
    /// Set-based: the users of a batch are written by one `INSERT … ON CONFLICT DO NOTHING` (new users, in
    /// batch order so their `pk`s follow it as SQLite's do), one `UPDATE` (existing users whose present fields
    /// differ) and one statement per kind of attribute write. A user appearing k times in a batch is merged in
    /// k rounds, in batch order, as SQLite's row-by-row loop merges it.
    public func upsertUsers(_ batch: [UserUpsert]) async throws -> BatchResult {
        let now = clock()
        var rounds: [[UserUpsert]] = []
        var seen: [String: Int] = [:]
        for u in batch {
            let round = seen[u.id, default: 0]
            seen[u.id] = round + 1
            if rounds.count <= round { rounds.append([]) }
            rounds[round].append(u)
        }
        let names = Set(batch.flatMap(\.attributes.keys))
        return try await write("upsertUsers") { conn in
            let attributeIDs = try await self.intern(conn, table: "attribute_names", names)
            var result = BatchResult()
            for round in rounds {
                result = result + (try await self.upsertRound(conn, round, attributeIDs: attributeIDs, now: now))
            }
            try await self.recordChange(
                conn, kind: "users", userID: batch.count == 1 ? batch[0].id : nil, rows: batch.count)
            return result
        }
    }

    /// Upserts users whose ids are distinct.
    func upsertRound(_ conn: PostgresConnection, _ users: [UserUpsert], attributeIDs: [String: Int64], now: Int64)
        async throws -> BatchResult
    {
        let a = ReservedArrays(users)
        let inserted = try await insertNew(conn, a, now: now)
        var changed = Set<String>()
        if users.contains(where: { u in !inserted.contains(u.id) && ReservedArrays([u]).present[0] != 0 }) {
            changed = try await updateReserved(conn, a, now: now)
        }
        if users.contains(where: { !$0.attributes.isEmpty }) {
            changed.formUnion(
                try await writeAttributes(conn, users, attributeIDs: attributeIDs, stamped: changed, now: now))
        }
        return BatchResult.tally(users.map(\.id), inserted: inserted, changed: changed)
    }

    /// Inserts the users that do not exist yet, with their reserved fields; returns their ids.
    private func insertNew(_ conn: PostgresConnection, _ a: ReservedArrays, now: Int64) async throws -> Set<String> {
        var inserted = Set<String>()
        for try await id in try await conn.query(
            """
            INSERT INTO users(id, email, phone, timezone, locale, created_at, birthday, last_seen_at,
                              inserted_at, updated_at)
            SELECT id, CASE WHEN valued & 1 <> 0 THEN email END, CASE WHEN valued & 2 <> 0 THEN phone END,
                   CASE WHEN valued & 4 <> 0 THEN timezone END, CASE WHEN valued & 8 <> 0 THEN locale END,
                   CASE WHEN valued & 16 <> 0 THEN created_at END, CASE WHEN valued & 32 <> 0 THEN birthday END,
                   CASE WHEN valued & 64 <> 0 THEN last_seen_at END, \(now), \(now)
            FROM unnest(\(a.ids)::text[], \(a.valued)::bigint[], \(a.email)::text[], \(a.phone)::text[],
                        \(a.timezone)::text[], \(a.locale)::text[], \(a.createdAt)::bigint[], \(a.birthday)::text[],
                        \(a.lastSeenAt)::bigint[]) WITH ORDINALITY
                 AS t(id, valued, email, phone, timezone, locale, created_at, birthday, last_seen_at, ord)
            ORDER BY ord
            ON CONFLICT (id) DO NOTHING
            RETURNING id
            """, logger: logger
        ).decode(String.self) {
            inserted.insert(id)
        }
        return inserted
    }

    /// Sets the reserved fields each upsert carries on users that existed, where a value differs; returns the
    /// ids of the users changed.
    private func updateReserved(_ conn: PostgresConnection, _ a: ReservedArrays, now: Int64) async throws -> Set<String> {
        var changed = Set<String>()
        for try await id in try await conn.query(
            """
            UPDATE users u SET
              email = CASE WHEN i.present & 1 = 0 THEN u.email WHEN i.valued & 1 <> 0 THEN i.email END,
              phone = CASE WHEN i.present & 2 = 0 THEN u.phone WHEN i.valued & 2 <> 0 THEN i.phone END,
              timezone = CASE WHEN i.present & 4 = 0 THEN u.timezone WHEN i.valued & 4 <> 0 THEN i.timezone END,
              locale = CASE WHEN i.present & 8 = 0 THEN u.locale WHEN i.valued & 8 <> 0 THEN i.locale END,
              created_at = CASE WHEN i.present & 16 = 0 THEN u.created_at
                                WHEN i.valued & 16 <> 0 THEN i.created_at END,
              created_by_event = u.created_by_event AND i.present & 16 = 0,
              birthday = CASE WHEN i.present & 32 = 0 THEN u.birthday WHEN i.valued & 32 <> 0 THEN i.birthday END,
              last_seen_at = CASE WHEN i.present & 64 = 0 THEN u.last_seen_at
                                  WHEN i.valued & 64 <> 0 THEN i.last_seen_at END,
              updated_at = \(now)
            FROM unnest(\(a.ids)::text[], \(a.present)::bigint[], \(a.valued)::bigint[], \(a.email)::text[],
                        \(a.phone)::text[], \(a.timezone)::text[], \(a.locale)::text[], \(a.createdAt)::bigint[],
                        \(a.birthday)::text[], \(a.lastSeenAt)::bigint[])
                 AS i(id, present, valued, email, phone, timezone, locale, created_at, birthday, last_seen_at)
            WHERE u.id = i.id AND (
              (i.present & 1 <> 0 AND u.email IS DISTINCT FROM CASE WHEN i.valued & 1 <> 0 THEN i.email END)
              OR (i.present & 2 <> 0 AND u.phone IS DISTINCT FROM CASE WHEN i.valued & 2 <> 0 THEN i.phone END)
              OR (i.present & 4 <> 0
                  AND u.timezone IS DISTINCT FROM CASE WHEN i.valued & 4 <> 0 THEN i.timezone END)
              OR (i.present & 8 <> 0 AND u.locale IS DISTINCT FROM CASE WHEN i.valued & 8 <> 0 THEN i.locale END)
              OR (i.present & 16 <> 0
                  AND (u.created_by_event
                       OR u.created_at IS DISTINCT FROM CASE WHEN i.valued & 16 <> 0 THEN i.created_at END))
              OR (i.present & 32 <> 0
                  AND u.birthday IS DISTINCT FROM CASE WHEN i.valued & 32 <> 0 THEN i.birthday END)
              OR (i.present & 64 <> 0
                  AND u.last_seen_at IS DISTINCT FROM CASE WHEN i.valued & 64 <> 0 THEN i.last_seen_at END))
            RETURNING u.id
            """, logger: logger
        ).decode(String.self) {
            changed.insert(id)
        }
        return changed
    }

    /// Writes the custom attributes of `users` (null clears one), where a value differs; users whose attributes
    /// changed get a fresh `updated_at` unless `stamped` already holds them. Returns the ids of users changed.
    private func writeAttributes(
        _ conn: PostgresConnection, _ users: [UserUpsert], attributeIDs: [String: Int64], stamped: Set<String>,
        now: Int64
    ) async throws -> Set<String> {
        var pkOf: [String: Int64] = [:]
        var idOf: [Int64: String] = [:]
        let wanted = users.filter { !$0.attributes.isEmpty }.map(\.id)
        for try await (pk, id) in try await conn.query(
            "SELECT pk, id FROM users WHERE id = ANY(\(wanted)::text[])", logger: logger
        ).decode((Int64, String).self) {
            pkOf[id] = pk
            idOf[pk] = id
        }
        var values = AttributeArrays()
        var clearPK: [Int64] = []
        var clearAttribute: [Int64] = []
        for u in users where !u.attributes.isEmpty {
            guard let pk = pkOf[u.id] else {
                throw PostgresStoreError("PostgresStore.upsertUsers: user \(u.id) vanished during an upsert")
            }
            for (name, value) in u.attributes {
                guard let aid = attributeIDs[name] else {
                    throw PostgresStoreError("PostgresStore.upsertUsers: attribute \(name) was not interned")
                }
                if value.isNull {
                    clearPK.append(pk)
                    clearAttribute.append(aid)
                } else {
                    try values.append(pk: pk, attribute: aid, value)
                }
            }
        }
        var touched = Set<Int64>()
        if !clearPK.isEmpty {
            for try await pk in try await conn.query(
                """
                DELETE FROM user_attributes a USING unnest(\(clearPK)::bigint[], \(clearAttribute)::bigint[]) AS d(pk, aid)
                WHERE a.user_pk = d.pk AND a.attribute_id = d.aid
                RETURNING a.user_pk
                """, logger: logger
            ).decode(Int64.self) {
                touched.insert(pk)
            }
        }
        if !values.pk.isEmpty {
            for try await pk in try await conn.query(
                """
                INSERT INTO user_attributes(user_pk, attribute_id, type, value_num, value_int, value_text, value_list)
                SELECT pk, aid, type,
                       CASE WHEN type = 1 THEN nullif(num, 'NaN'::double precision) END,
                       CASE WHEN type IN (2, 4) THEN int END,
                       CASE WHEN type = 3 THEN txt END,
                       CASE WHEN type = 5 THEN ARRAY(SELECT jsonb_array_elements_text(list::jsonb)) END
                FROM unnest(\(values.pk)::bigint[], \(values.attribute)::bigint[], \(values.type)::bigint[],
                            \(values.number)::double precision[], \(values.integer)::bigint[],
                            \(values.text)::text[], \(values.list)::text[])
                     AS t(pk, aid, type, num, int, txt, list)
                ORDER BY pk, aid
                ON CONFLICT (user_pk, attribute_id) DO UPDATE SET
                  type = excluded.type, value_num = excluded.value_num, value_int = excluded.value_int,
                  value_text = excluded.value_text, value_list = excluded.value_list
                WHERE (user_attributes.type, user_attributes.value_num, user_attributes.value_int,
                       user_attributes.value_text, user_attributes.value_list)
                      IS DISTINCT FROM (excluded.type, excluded.value_num, excluded.value_int,
                                        excluded.value_text, excluded.value_list)
                RETURNING user_pk
                """, logger: logger
            ).decode(Int64.self) {
                touched.insert(pk)
            }
        }
        let stamp = touched.compactMap { pk in idOf[pk].flatMap { stamped.contains($0) ? nil : pk } }
        if !stamp.isEmpty {
            try await conn.query(
                "UPDATE users SET updated_at = \(now) WHERE pk = ANY(\(stamp)::bigint[])", logger: logger)
        }
        return Set(touched.compactMap { idOf[$0] })
    }
}
