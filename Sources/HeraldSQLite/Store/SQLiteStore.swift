import Foundation
import GRDB
import HeraldCore
import HeraldLedger

/// The audience store on one SQLite file (WAL), shared by the CLI and the daemon.
///
/// Tables are plain relational ones (integer keys, text, JSON text) so that a PostgreSQL
/// store can follow the same shape; see `SQLiteStore.migrator` for the schema.
public final class SQLiteStore: AudienceStore {
    /// The connection pool (one writer, concurrent readers).
    public let pool: DatabasePool
    /// Declared custom attributes; they type the snapshot's attribute columns.
    public let schema: AttributeSchema
    /// The clock, epoch seconds (docs/architecture.md).
    let clock: @Sendable () -> Int64
    /// Committed users (they are never deleted): id → pk, and the `created_at` of the ones an event created.
    let userCache = LockedState(UserCache())
    /// event name → event_names.id, committed rows only.
    let nameCache = LockedState([String: Int64]())
    /// numeric property name → property_keys.id, committed rows only.
    let keyCache = LockedState([String: Int64]())
    /// How many ranges of users the snapshot's event scan is split into, each on its own connection.
    let snapshotParts: Int
    /// Entries kept in `userCache` before it is emptied (bounds memory).
    static let userCacheLimit = 4_000_000

    /// Opens (creating and migrating when needed) the store at `path`; `cacheMiB` caps each connection's
    /// page cache; `snapshotParts` splits the snapshot's event scan (default: one per core).
    public init(
        path: String, schema: AttributeSchema = AttributeSchema(), cacheMiB: Int = 256,
        snapshotParts: Int = ProcessInfo.processInfo.activeProcessorCount,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) throws {
        self.snapshotParts = max(1, min(snapshotParts, 8))
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // A page cache large enough for the indexes a batch touches, and a WAL that is
            // checkpointed every 40 MB rather than every 4 MB: both cut write amplification.
            try db.execute(sql: "PRAGMA cache_size = -\(max(cacheMiB, 2) * 1024)")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 10000")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // Large scans (the snapshot) read pages in place instead of copying them into the cache.
            try db.execute(sql: "PRAGMA mmap_size = 4294967296")
        }
        pool = try DatabasePool(path: path, configuration: config)
        self.schema = schema
        self.clock = clock
        try Self.migrator.migrate(pool)
        try restoreEventIndexIfMissing()
    }

    /// The identity of an event, unique: (user, name, time, hash of properties or message id).
    /// It is the de-duplication and also the index facts(id:) and the snapshot's ordered scan use.
    /// Keyed by user first, so a batch sorted by user writes it in order (a random hash key would
    /// touch a random page per row once the table outgrows the page cache).
    static let eventIndexSQL =
        "CREATE UNIQUE INDEX IF NOT EXISTS events_identity ON events(user_pk, name_id, ts, identity)"

    /// Finishes a bulk load that died before `endBulkLoad()`: removes its duplicates, rebuilds the index.
    private func restoreEventIndexIfMissing() throws {
        let present = try pool.read { db in
            try Bool.fetchOne(
                db, sql: "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'index' AND name = 'events_identity'")
                ?? false
        }
        if !present { _ = try rebuildEventIdentity() }
    }

    /// Drops the identity index for a load at least as large as the table (the importer asks only for
    /// files of `Importer.bulkLoadThreshold` events or more). A time-ordered file touches a different user, so a different index page, on nearly every
    /// row; appending and then building the index once by sorting is far cheaper. Until
    /// `endBulkLoad()`, readers may see a duplicate that the load will remove.
    public func beginBulkLoad(estimatedEvents: Int) async throws -> Bool {
        try await pool.write { db in
            let existing = try Int.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM events") ?? 0
            guard estimatedEvents > 0, estimatedEvents >= existing else { return false }
            try db.execute(sql: "DROP INDEX IF EXISTS events_identity")
            return true
        }
    }

    /// Removes the duplicates a bulk load appended (keeping the first copy) and rebuilds the index.
    public func endBulkLoad() async throws -> Int {
        try rebuildEventIdentity()
    }

    /// Deletes every event whose identity an earlier row already has, then builds the unique index;
    /// one transaction, so a crash leaves the index missing and the next open does it again.
    private func rebuildEventIdentity() throws -> Int {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA threads = 2")  // helper threads for the sorts
            defer { try? db.execute(sql: "PRAGMA threads = 0") }
            var removed = 0
            try db.inTransaction {
                try db.execute(
                    sql: """
                        CREATE TEMP TABLE duplicate_events AS
                        SELECT id FROM (
                          SELECT id, row_number() OVER (
                            PARTITION BY user_pk, name_id, ts, identity ORDER BY id) AS copy
                          FROM events)
                        WHERE copy > 1
                        """)
                removed = try Int.fetchOne(db, sql: "SELECT count(*) FROM duplicate_events") ?? 0
                if removed > 0 {
                    try db.execute(
                        sql: "DELETE FROM event_numbers WHERE event_id IN (SELECT id FROM duplicate_events)")
                    try db.execute(sql: "DELETE FROM events WHERE id IN (SELECT id FROM duplicate_events)")
                }
                try db.execute(sql: "DROP TABLE duplicate_events")
                try db.execute(sql: Self.eventIndexSQL)
                return .commit
            }
            return removed
        }
    }

    /// The schema, as migrations. Times are epoch seconds except `events.ts` (epoch ms).
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE users (
                      pk INTEGER PRIMARY KEY,
                      id TEXT NOT NULL UNIQUE,
                      email TEXT, phone TEXT, timezone TEXT, locale TEXT,
                      created_at INTEGER, birthday TEXT, last_seen_at INTEGER,
                      inserted_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
                    CREATE TABLE attribute_names (
                      id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                    CREATE TABLE user_attributes (
                      user_pk INTEGER NOT NULL REFERENCES users(pk),
                      attribute_id INTEGER NOT NULL REFERENCES attribute_names(id),
                      type INTEGER NOT NULL,
                      value,
                      PRIMARY KEY (user_pk, attribute_id)) WITHOUT ROWID;
                    CREATE TABLE event_names (
                      id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                    CREATE TABLE property_keys (
                      id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                    CREATE TABLE events (
                      id INTEGER PRIMARY KEY,
                      user_pk INTEGER NOT NULL REFERENCES users(pk),
                      name_id INTEGER NOT NULL REFERENCES event_names(id),
                      ts INTEGER NOT NULL,
                      properties TEXT,
                      message_id TEXT,
                      identity INTEGER NOT NULL);
                    CREATE TABLE event_message_ids (message_id TEXT PRIMARY KEY) WITHOUT ROWID;
                    \(Self.eventIndexSQL);
                    CREATE TABLE event_numbers (
                      event_id INTEGER NOT NULL REFERENCES events(id),
                      key_id INTEGER NOT NULL REFERENCES property_keys(id),
                      value REAL NOT NULL,
                      PRIMARY KEY (event_id, key_id)) WITHOUT ROWID;
                    CREATE TABLE preferences (
                      user_id TEXT NOT NULL,
                      kind TEXT NOT NULL,
                      key TEXT NOT NULL,
                      opted_out INTEGER NOT NULL,
                      updated_at INTEGER NOT NULL,
                      PRIMARY KEY (user_id, kind, key)) WITHOUT ROWID;
                    CREATE TABLE suppressions (
                      list TEXT NOT NULL,
                      address TEXT NOT NULL,
                      reason TEXT NOT NULL,
                      created_at INTEGER NOT NULL,
                      PRIMARY KEY (list, address)) WITHOUT ROWID;
                    CREATE INDEX suppressions_address ON suppressions(address);
                    CREATE TABLE changes (
                      seq INTEGER PRIMARY KEY AUTOINCREMENT,
                      kind TEXT NOT NULL,
                      user_id TEXT,
                      rows INTEGER NOT NULL,
                      at INTEGER NOT NULL);
                    """)
        }
        m.registerMigration("v2-users-phone") { db in
            // Inbound SMS (STOP/START) finds the users of a sender number.
            try db.execute(sql: "CREATE INDEX users_phone ON users(phone) WHERE phone IS NOT NULL")
        }
        m.registerMigration("v3-events-awaiting-planning") { db in
            // Events stored through the API whose event campaigns are not yet planned (see
            // `insertEventsReportingNew`). Created empty: events stored before it never trigger.
            try db.execute(
                sql: """
                    CREATE TABLE events_awaiting_planning (
                      user_id TEXT NOT NULL,
                      name TEXT NOT NULL,
                      ts INTEGER NOT NULL,
                      PRIMARY KEY (user_id, name, ts)) WITHOUT ROWID
                    """)
        }
        m.registerMigration("v4-users-created-by-event") { db in
            // 1 while `created_at` is the time of the user's earliest event (a user an event created);
            // 0 once a profile write gave it. Existing users keep their stored value and 0.
            try db.execute(sql: "ALTER TABLE users ADD COLUMN created_by_event INTEGER NOT NULL DEFAULT 0")
        }
        m.registerMigration("v5-devices") { db in
            // The push device registry (docs/push.md); `users.push_devices` counts each user's active devices,
            // kept in the transaction that changes them, so the audience snapshot reads it with the profile.
            try db.execute(
                sql: """
                    CREATE TABLE devices (
                      token TEXT PRIMARY KEY,
                      user_id TEXT NOT NULL,
                      platform TEXT NOT NULL,
                      p256dh TEXT, auth TEXT,
                      active INTEGER NOT NULL DEFAULT 1,
                      registered_at INTEGER NOT NULL,
                      deactivated_reason TEXT, deactivated_at INTEGER);
                    CREATE INDEX devices_user ON devices(user_id, registered_at);
                    ALTER TABLE users ADD COLUMN push_devices INTEGER NOT NULL DEFAULT 0;
                    """)
        }
        return m
    }

    /// Appends a row to `changes`; called inside every write transaction. The newest 100,000
    /// rows are kept (AUTOINCREMENT keeps the sequence growing after old rows are pruned).
    func recordChange(_ db: Database, kind: String, userID: String? = nil, rows: Int) throws {
        try db.cachedStatement(sql: "INSERT INTO changes(kind, user_id, rows, at) VALUES (?, ?, ?, ?)")
            .execute(arguments: [kind, userID, rows, clock()])
        let seq = db.lastInsertedRowID
        if seq % 1000 == 0 {
            try db.cachedStatement(sql: "DELETE FROM changes WHERE seq <= ?").execute(arguments: [seq - 100_000])
        }
    }

    /// Number of users and events.
    public func counts() async throws -> (users: Int, events: Int) {
        try await pool.read { db in
            let u = try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0
            let e = try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0
            return (u, e)
        }
    }

    /// A number that grows with every committed write, from any process sharing the file.
    public func changeSequence() async throws -> Int64 {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT coalesce(max(seq), 0) FROM changes") ?? 0
        }
    }

    /// The writes committed after `since`, oldest first.
    public func changes(since: Int64, limit: Int = 1000) async throws -> [StoreChange] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT seq, kind, user_id, rows, at FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [since, limit]
            ).map { StoreChange(sequence: $0[0], kind: $0[1], userID: $0[2], rows: $0[3], at: $0[4]) }
        }
    }

    /// Looks up or creates an interned name (event names, property keys, attribute names).
    static func intern(
        _ db: Database, table: String, name: String, cache: [String: Int64], fresh: inout [String: Int64]
    ) throws -> Int64 {
        if let id = cache[name] ?? fresh[name] { return id }
        if let id = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT id FROM \(table) WHERE name = ?"), arguments: [name])
        {
            fresh[name] = id
            return id
        }
        try db.cachedStatement(sql: "INSERT INTO \(table)(name) VALUES (?)").execute(arguments: [name])
        let id = db.lastInsertedRowID
        fresh[name] = id
        return id
    }
}

