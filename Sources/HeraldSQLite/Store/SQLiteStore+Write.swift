import GRDB
import HeraldCore
import HeraldLedger

/// Interned ids created inside a transaction, published to the caches only after it commits.
struct FreshIDs {
    var users: [String: Int64] = [:]
    var names: [String: Int64] = [:]
    var keys: [String: Int64] = [:]
    var attributes: [String: Int64] = [:]
    /// `created_at` of users an event created, as created, read or moved back in the transaction.
    var eventCreatedAt: [Int64: Int64] = [:]
    /// Users whose `created_at` a profile write gave in the transaction (no longer event-created).
    var notEventCreated: Set<Int64> = []
}

/// What `SQLiteStore` remembers of committed users: id → pk, and for the users an event created
/// (`created_by_event`), their `created_at`, so that an events batch knows whom an older event moves back
/// without reading every user it touches. Every cached id's state is known: a pk missing from
/// `eventCreatedAt` was not created by an event and never will be (the flag only goes from 1 to 0), and a
/// value there is at least the stored `created_at` (which only moves back while the flag is 1).
struct UserCache {
    var pk: [String: Int64] = [:]
    var eventCreatedAt: [Int64: Int64] = [:]
}

/// How a custom attribute value is stored: a type code and an SQL value.
enum StoredAttribute {
    static let number: Int64 = 1, bool: Int64 = 2, string: Int64 = 3, timestamp: Int64 = 4, list: Int64 = 5

    /// The value of a stored (type, value) pair.
    static func decode(type: Int64, _ dbv: DatabaseValue) -> Value {
        switch type {
        case number: Double.fromDatabaseValue(dbv).map(Value.number) ?? .null
        case bool: Int64.fromDatabaseValue(dbv).map { .bool($0 != 0) } ?? .null
        case string: String.fromDatabaseValue(dbv).map(Value.string) ?? .null
        case timestamp: Int64.fromDatabaseValue(dbv).map(Value.timestamp) ?? .null
        case list: String.fromDatabaseValue(dbv).flatMap(JSONWriter.parseStringArray).map(Value.list) ?? .null
        default: .null
        }
    }
}

extension SQLiteStore {
    /// The reserved columns of `users`, in the order `reservedValues` returns them.
    static let reservedColumns = ["email", "phone", "timezone", "locale", "created_at", "birthday", "last_seen_at"]

    /// A reserved field's SQL value.
    enum ReservedValue {
        case text(String?)
        case integer(Int64?)

        /// Binds the value at parameter `i`.
        func bind(_ r: RawStatement, _ i: Int32) {
            switch self {
            case .text(let t): r.bind(i, t)
            case .integer(let v): r.bind(i, v)
            }
        }
    }

    /// Present reserved fields of an upsert as (column index, value), and their bit mask.
    static func reservedValues(_ u: UserUpsert) -> (fields: [(Int, ReservedValue)], mask: Int) {
        var out: [(Int, ReservedValue)] = []
        if let v = u.email { out.append((0, .text(v))) }
        if let v = u.phone { out.append((1, .text(v))) }
        if let v = u.timezone { out.append((2, .text(v))) }
        if let v = u.locale { out.append((3, .text(v))) }
        if let v = u.createdAt { out.append((4, .integer(v))) }
        if let v = u.birthday { out.append((5, .text(v?.description))) }
        if let v = u.lastSeenAt { out.append((6, .integer(v))) }
        return (out, out.reduce(0) { $0 | 1 << $1.0 })
    }

    /// `UPDATE users …` for the reserved columns in `mask`, changing the row only when a value differs. A
    /// `created_at` given this way is the user's own: events no longer move it (`created_by_event`).
    static let updateSQL: [String] = (0..<128).map { mask in
        let cols = reservedColumns.indices.filter { mask & (1 << $0) != 0 }.map { reservedColumns[$0] }
        var sets = cols.map { "\($0) = ?" }.joined(separator: ", ")
        var diff = cols.map { "\($0) IS NOT ?" }.joined(separator: " OR ")
        if cols.contains("created_at") {
            sets += ", created_by_event = 0"
            diff += " OR created_by_event <> 0"
        }
        return "UPDATE users SET \(sets), updated_at = ? WHERE pk = ? AND (\(diff))"
    }

    /// The committed or fresh pk of a user, or nil; a user read from the table has its `created_at` noted in
    /// `fresh` when an event created it (for `UserCache`).
    func userPK(_ db: Database, _ id: String, _ fresh: inout FreshIDs) throws -> Int64? {
        if let pk = userCache.withLock({ $0.pk[id] }) ?? fresh.users[id] { return pk }
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT pk, CASE WHEN created_by_event <> 0 THEN created_at END FROM users WHERE id = ?"),
                arguments: [id])
        else { return nil }
        let pk: Int64 = row[0]
        if let at: Int64 = row[1] { fresh.eventCreatedAt[pk] = at }
        return pk
    }

    /// Publishes ids created by a committed transaction.
    func publish(_ fresh: FreshIDs) {
        if !fresh.users.isEmpty || !fresh.eventCreatedAt.isEmpty || !fresh.notEventCreated.isEmpty {
            userCache.withLock { c in
                if c.pk.count + fresh.users.count > Self.userCacheLimit { c = UserCache() }
                c.pk.merge(fresh.users) { a, _ in a }
                c.eventCreatedAt.merge(fresh.eventCreatedAt, uniquingKeysWith: min)
                for pk in fresh.notEventCreated { c.eventCreatedAt[pk] = nil }
            }
        }
        if !fresh.names.isEmpty { nameCache.withLock { $0.merge(fresh.names) { a, _ in a } } }
        if !fresh.keys.isEmpty { keyCache.withLock { $0.merge(fresh.keys) { a, _ in a } } }
    }

    /// Upserts a batch of users in one transaction: present fields are written, absent ones kept.
    public func upsertUsers(_ batch: [UserUpsert]) async throws -> BatchResult {
        if batch.count >= 1000 { try await warmUserCache() }
        let now = clock()
        let (result, fresh) = try await pool.write { db -> (BatchResult, FreshIDs) in
            var fresh = FreshIDs()
            var result = BatchResult()
            let insert = RawStatement(db, try db.cachedStatement(sql: Self.insertUserSQL))
            for u in batch {
                var pk = self.userCache.withLock { $0.pk[u.id] } ?? fresh.users[u.id]
                if pk == nil {
                    // Unknown here: try the insert first (another process may have created the user).
                    insert.bind(1, u.id)
                    insert.bind(2, u.email ?? nil)
                    insert.bind(3, u.phone ?? nil)
                    insert.bind(4, u.timezone ?? nil)
                    insert.bind(5, u.locale ?? nil)
                    insert.bind(6, u.createdAt ?? nil)
                    insert.bind(7, (u.birthday ?? nil)?.description)
                    insert.bind(8, u.lastSeenAt ?? nil)
                    insert.bind(9, now)
                    insert.bind(10, now)
                    try insert.run()
                    if db.changesCount > 0 {
                        let newPK = db.lastInsertedRowID
                        fresh.users[u.id] = newPK
                        _ = try self.writeAttributes(db, pk: newPK, u.attributes, &fresh)
                        result.inserted += 1
                        continue
                    }
                    pk = try self.userPK(db, u.id, &fresh)
                }
                guard let pk else { throw DatabaseError(message: "user \(u.id) vanished during an upsert") }
                if u.createdAt != nil {
                    // The profile's own created_at from now on (updateSQL clears created_by_event).
                    fresh.eventCreatedAt[pk] = nil
                    fresh.notEventCreated.insert(pk)
                }
                if try self.updateUser(db, pk: pk, u, now: now, &fresh) {
                    result.updated += 1
                } else {
                    result.unchanged += 1
                }
            }
            try self.recordChange(
                db, kind: "users", userID: batch.count == 1 ? batch[0].id : nil, rows: batch.count)
            return (result, fresh)
        }
        publish(fresh)
        return result
    }

    /// Inserts a user unless the id exists.
    static let insertUserSQL = """
        INSERT INTO users(id, \(reservedColumns.joined(separator: ", ")), inserted_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING
        """

    /// Merges an upsert into an existing user; true when anything stored changed.
    func updateUser(_ db: Database, pk: Int64, _ u: UserUpsert, now: Int64, _ fresh: inout FreshIDs) throws -> Bool {
        let (fields, mask) = Self.reservedValues(u)
        var changed = false
        if !fields.isEmpty {
            let update = RawStatement(db, try db.cachedStatement(sql: Self.updateSQL[mask]))
            let n = Int32(fields.count)
            for (k, f) in fields.enumerated() {
                f.1.bind(update, Int32(k) + 1)
                f.1.bind(update, n + 3 + Int32(k))
            }
            update.bind(n + 1, now)
            update.bind(n + 2, pk)
            try update.run()
            changed = db.changesCount > 0
        }
        if try writeAttributes(db, pk: pk, u.attributes, &fresh) {
            if !changed {
                try db.cachedStatement(sql: "UPDATE users SET updated_at = ? WHERE pk = ?").execute(arguments: [now, pk])
            }
            changed = true
        }
        return changed
    }

    /// Writes custom attributes of one user; true when anything changed.
    func writeAttributes(_ db: Database, pk: Int64, _ attrs: [String: Value], _ fresh: inout FreshIDs) throws -> Bool {
        var changed = false
        for (name, value) in attrs {
            let aid = try Self.intern(db, table: "attribute_names", name: name, cache: [:], fresh: &fresh.attributes)
            if value.isNull {
                try db.cachedStatement(sql: "DELETE FROM user_attributes WHERE user_pk = ? AND attribute_id = ?")
                    .execute(arguments: [pk, aid])
            } else {
                let upsert = RawStatement(
                    db,
                    try db.cachedStatement(
                        sql: """
                            INSERT INTO user_attributes(user_pk, attribute_id, type, value) VALUES (?, ?, ?, ?)
                            ON CONFLICT(user_pk, attribute_id) DO UPDATE SET type = excluded.type, value = excluded.value
                            WHERE type IS NOT excluded.type OR value IS NOT excluded.value
                            """))
                upsert.bind(1, pk)
                upsert.bind(2, aid)
                switch value {
                case .null: break
                case .number(let d):
                    upsert.bind(3, StoredAttribute.number)
                    upsert.bind(4, d)
                case .bool(let b):
                    upsert.bind(3, StoredAttribute.bool)
                    upsert.bind(4, Int64(b ? 1 : 0))
                case .string(let t):
                    upsert.bind(3, StoredAttribute.string)
                    upsert.bind(4, t)
                case .timestamp(let t):
                    upsert.bind(3, StoredAttribute.timestamp)
                    upsert.bind(4, t)
                case .list(let l):
                    upsert.bind(3, StoredAttribute.list)
                    upsert.bind(4, JSONWriter.stringArray(l))
                }
                try upsert.run()
            }
            if db.changesCount > 0 { changed = true }
        }
        return changed
    }
}
