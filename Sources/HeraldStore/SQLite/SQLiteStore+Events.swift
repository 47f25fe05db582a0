import GRDB
import GRDBSQLite
import HeraldCore

/// Binds values straight to a prepared statement: the event path runs this per row, and
/// GRDB's `StatementArguments` boxing cost about a third of the insert time.
struct RawStatement {
    let db: Database
    let handle: OpaquePointer

    init(_ db: Database, _ statement: Statement) {
        self.db = db
        handle = statement.sqliteStatement
    }

    @inline(__always) func bind(_ i: Int32, _ v: Int64) { sqlite3_bind_int64(handle, i, v) }
    @inline(__always) func bind(_ i: Int32, _ v: Double) { sqlite3_bind_double(handle, i, v) }

    @inline(__always) func bind(_ i: Int32, _ v: String?) {
        guard var s = v else {
            sqlite3_bind_null(handle, i)
            return
        }
        s.withUTF8 { buf in
            guard buf.count > 0 else {
                _ = sqlite3_bind_text(handle, i, "", 0, nil)
                return
            }
            // SQLITE_TRANSIENT: SQLite copies the bytes before this call returns.
            _ = sqlite3_bind_text(
                handle, i, UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(buf.count),
                unsafeBitCast(-1, to: sqlite3_destructor_type.self))
        }
    }

    /// Advances to the next result row; false when done (the statement is then reset).
    func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        sqlite3_reset(handle)
        guard rc == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
        return false
    }

    @inline(__always) func isNull(_ i: Int32) -> Bool { sqlite3_column_type(handle, i) == SQLITE_NULL }
    @inline(__always) func int64(_ i: Int32) -> Int64 { sqlite3_column_int64(handle, i) }
    @inline(__always) func double(_ i: Int32) -> Double { sqlite3_column_double(handle, i) }

    /// The text of column `i`, nil for NULL.
    @inline(__always) func text(_ i: Int32) -> String? {
        guard let p = sqlite3_column_text(handle, i) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, i))), as: UTF8.self)
    }

    /// Runs the statement to completion and resets it; throws SQLite's error.
    func run() throws {
        let rc = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }
}

extension SQLiteStore {
    /// Fills the user cache with one scan when it is empty (far cheaper than one lookup per new id).
    func warmUserCache() async throws {
        guard userCache.withLock({ $0.isEmpty }) else { return }
        let all = try await pool.read { db -> [String: Int64] in
            let n = try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0
            guard n > 0, n <= Self.userCacheLimit else { return [:] }
            var map = [String: Int64](minimumCapacity: n)
            let rows = try Row.fetchCursor(db, sql: "SELECT id, pk FROM users")
            while let r = try rows.next() { map[r[0]] = r[1] }
            return map
        }
        if !all.isEmpty { userCache.withLock { c in if c.isEmpty { c = all } } }
    }

    /// Inserts a batch of events in one transaction, creating unknown users and skipping duplicates.
    public func insertEvents(_ batch: [EventRecord]) async throws -> BatchResult {
        if batch.count >= 1000 { try await warmUserCache() }
        let now = clock()
        let (result, fresh) = try await pool.write { db -> (BatchResult, FreshIDs) in
            var fresh = FreshIDs()
            var result = BatchResult()
            let insertUser = try db.cachedStatement(
                sql: "INSERT INTO users(id, inserted_at, updated_at) VALUES (?, ?, ?)")
            let insertEvent = RawStatement(db, try db.cachedStatement(
                sql: """
                    INSERT INTO events(user_pk, name_id, ts, properties, message_id, dedupe_key)
                    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(dedupe_key) DO NOTHING
                    """))
            let insertNumber = RawStatement(db, try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO event_numbers(event_id, key_id, value) VALUES (?, ?, ?)"))
            var created = 0
            // Resolve users and names first, then insert in (user, name, time) order so that the
            // (user_pk, name_id, ts) index is written in order within the transaction.
            var keys = [(pk: Int64, name: Int64, index: Int)]()
            keys.reserveCapacity(batch.count)
            var lastUser = ""
            var lastPK: Int64 = 0
            for (index, e) in batch.enumerated() {
                var pk = lastPK
                if e.userID != lastUser || lastUser.isEmpty {
                    if let known = try self.userPK(db, e.userID, fresh) {
                        pk = known
                    } else {
                        try insertUser.execute(arguments: [e.userID, now, now])
                        pk = db.lastInsertedRowID
                        fresh.users[e.userID] = pk
                        created += 1
                    }
                    lastUser = e.userID
                    lastPK = pk
                }
                let nameID = try self.nameCache.withLock({ $0[e.name] })
                    ?? Self.intern(db, table: "event_names", name: e.name, cache: [:], fresh: &fresh.names)
                keys.append((pk, nameID, index))
            }
            keys.sort { a, b in
                a.pk != b.pk ? a.pk < b.pk : a.name != b.name ? a.name < b.name
                    : batch[a.index].timestampMillis < batch[b.index].timestampMillis
            }
            for k in keys {
                let e = batch[k.index]
                insertEvent.bind(1, k.pk)
                insertEvent.bind(2, k.name)
                insertEvent.bind(3, e.timestampMillis)
                insertEvent.bind(4, e.propertiesJSON)
                insertEvent.bind(5, e.messageID)
                insertEvent.bind(6, StableHash.eventKey(e))
                try insertEvent.run()
                guard db.changesCount > 0 else {
                    result.unchanged += 1
                    continue
                }
                result.inserted += 1
                if e.numbers.isEmpty { continue }
                let eventID = db.lastInsertedRowID
                for (key, v) in e.numbers where v.isFinite {
                    let kid = try self.keyCache.withLock({ $0[key] })
                        ?? Self.intern(db, table: "property_keys", name: key, cache: [:], fresh: &fresh.keys)
                    insertNumber.bind(1, eventID)
                    insertNumber.bind(2, kid)
                    insertNumber.bind(3, v)
                    try insertNumber.run()
                }
            }
            if created > 0 { try self.recordChange(db, kind: "users", rows: created) }
            try self.recordChange(db, kind: "events", rows: result.inserted)
            return (result, fresh)
        }
        publish(fresh)
        return result
    }
}
