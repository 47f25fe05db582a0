import GRDB
import HeraldCore
import HeraldLedger

/// The ledger in the store's SQLite file, with its own migrations (registered apart from the audience schema).
public final class SQLiteLedger: LedgerStore {
    /// The store's pool.
    public let pool: DatabasePool
    /// False when the tables may be absent (a read-only look, e.g. dry-run on a fresh store).
    private let migrated: Bool

    /// The ledger over `pool`; `migrate: false` never writes (reads then see an empty ledger if it was never created).
    public init(pool: DatabasePool, migrate: Bool = true) throws {
        self.pool = pool
        migrated = migrate
        if migrate { try Self.migrator.migrate(pool) }
    }

    /// The ledger schema.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("ledger-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE ledger (
                      id INTEGER PRIMARY KEY,
                      idempotency_key TEXT NOT NULL UNIQUE,
                      campaign TEXT NOT NULL,
                      topic TEXT,
                      transactional INTEGER NOT NULL DEFAULT 0,
                      variant TEXT,
                      user TEXT NOT NULL,
                      channel TEXT,
                      address TEXT,
                      status TEXT NOT NULL,
                      reason TEXT,
                      scheduled_at INTEGER,
                      attempts INTEGER NOT NULL DEFAULT 0,
                      provider_message_id TEXT,
                      error TEXT,
                      created_at INTEGER NOT NULL,
                      updated_at INTEGER NOT NULL);
                    CREATE INDEX ledger_user_scheduled ON ledger(user, scheduled_at);
                    CREATE INDEX ledger_scheduled ON ledger(scheduled_at);
                    CREATE INDEX ledger_campaign ON ledger(campaign);
                    CREATE TABLE ledger_history (
                      id INTEGER PRIMARY KEY,
                      ledger_id INTEGER NOT NULL REFERENCES ledger(id),
                      from_status TEXT,
                      to_status TEXT NOT NULL,
                      reason TEXT,
                      at INTEGER NOT NULL);
                    CREATE INDEX ledger_history_row ON ledger_history(ledger_id);
                    CREATE TRIGGER ledger_history_append_only_u BEFORE UPDATE ON ledger_history
                      BEGIN SELECT RAISE(ABORT, 'ledger_history is append-only'); END;
                    CREATE TRIGGER ledger_history_append_only_d BEFORE DELETE ON ledger_history
                      BEGIN SELECT RAISE(ABORT, 'ledger_history is append-only'); END;
                    """)
        }
        m.registerMigration("ledger-v2") { db in
            // Dispatch: the occurrence and its window, claim leases, first sent/open/click times; planned occurrences.
            try db.execute(
                sql: """
                    ALTER TABLE ledger ADD COLUMN occurrence TEXT;
                    ALTER TABLE ledger ADD COLUMN trigger_at INTEGER;
                    ALTER TABLE ledger ADD COLUMN window_end INTEGER;
                    ALTER TABLE ledger ADD COLUMN lease_owner TEXT;
                    ALTER TABLE ledger ADD COLUMN lease_until INTEGER;
                    ALTER TABLE ledger ADD COLUMN sent_at INTEGER;
                    ALTER TABLE ledger ADD COLUMN opened_at INTEGER;
                    ALTER TABLE ledger ADD COLUMN clicked_at INTEGER;
                    CREATE INDEX ledger_due ON ledger(scheduled_at) WHERE status IN ('scheduled', 'failed');
                    CREATE INDEX ledger_leased ON ledger(lease_until) WHERE status = 'sending';
                    CREATE INDEX ledger_provider_id ON ledger(provider_message_id) WHERE provider_message_id IS NOT NULL;
                    CREATE INDEX ledger_updated ON ledger(updated_at);
                    CREATE TABLE occurrences (
                      campaign TEXT NOT NULL,
                      occurrence TEXT NOT NULL,
                      start INTEGER NOT NULL,
                      status TEXT NOT NULL,
                      decisions INTEGER NOT NULL DEFAULT 0,
                      detail TEXT,
                      created_at INTEGER NOT NULL,
                      updated_at INTEGER NOT NULL,
                      PRIMARY KEY (campaign, occurrence));
                    CREATE TABLE segment_members (
                      campaign TEXT NOT NULL,
                      user TEXT NOT NULL,
                      since INTEGER NOT NULL,
                      PRIMARY KEY (campaign, user)) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("ledger-v3-user-sent") { db in
            // Engagement reads each user's sends of the last 90 days by `sent_at` (SQLiteLedger+Engagement); the
            // index covers what it reads, so a bulk pass never visits the table's rows.
            try db.execute(
                sql: """
                    CREATE INDEX ledger_user_sent ON ledger(user, sent_at, status, opened_at, clicked_at, campaign)
                    WHERE sent_at IS NOT NULL
                    """)
        }
        registerJourneys(&m)
        registerControls(&m)
        registerExperiments(&m)
        return m
    }

    static let columns = """
        id, idempotency_key, campaign, topic, transactional, variant, user, channel, address, status, reason,
        scheduled_at, attempts, provider_message_id, error, created_at, updated_at,
        occurrence, trigger_at, window_end, sent_at, opened_at, clicked_at
        """

    func exists(_ db: Database) throws -> Bool { try migrated || db.tableExists("ledger") }

    /// Inserts rows whose key is new, each with its first history entry; returns how many were inserted.
    public func record(_ entries: [LedgerEntry]) async throws -> Int {
        try await pool.write { db in try Self.insert(entries, db) }
    }

    /// Inserts rows whose key is new, each with its first history entry, inside the caller's transaction.
    static func insert(_ entries: [LedgerEntry], _ db: Database) throws -> Int {
        var inserted = 0
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO ledger(idempotency_key, campaign, topic, transactional, variant, user, channel, address,
                  status, reason, scheduled_at, attempts, provider_message_id, error, created_at, updated_at,
                  occurrence, trigger_at, window_end, sent_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(idempotency_key) DO NOTHING
                """)
        let history = try db.cachedStatement(
            sql:
                "INSERT INTO ledger_history(ledger_id, from_status, to_status, reason, at) VALUES (?, NULL, ?, ?, ?)"
        )
        for e in entries {
            try insert.execute(arguments: [
                e.idempotencyKey, e.campaign, e.topic, e.transactional, e.variant, e.user,
                e.channel?.rawValue,
                e.address, e.status.rawValue, e.reason, e.scheduledAt, e.attempts, e.providerMessageID,
                e.error,
                e.createdAt, e.updatedAt, e.occurrence, e.triggerAt, e.windowEnd, e.sentAt,
            ])
            if db.changesCount > 0 {
                inserted += 1
                try history.execute(arguments: [
                    db.lastInsertedRowID, e.status.rawValue, e.reason, e.createdAt,
                ])
            }
        }
        return inserted
    }

    /// Moves a row to `status` and appends the change to its history; `sending` counts an attempt.
    public func updateStatus(
        key: String, to status: LedgerStatus, reason: String?, error: String?, providerMessageID: String?,
        at: Int64
    ) async throws -> Bool {
        try await pool.write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT id, status FROM ledger WHERE idempotency_key = ?", arguments: [key])
            else { return false }
            let id: Int64 = row[0]
            let from: String = row[1]
            try db.execute(
                sql: """
                    UPDATE ledger SET status = ?, reason = coalesce(?, reason), error = coalesce(?, error),
                      provider_message_id = coalesce(?, provider_message_id),
                      attempts = attempts + (CASE WHEN ? = 'sending' THEN 1 ELSE 0 END), updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [status.rawValue, reason, error, providerMessageID, status.rawValue, at, id])
            try db.execute(
                sql:
                    "INSERT INTO ledger_history(ledger_id, from_status, to_status, reason, at) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, from, status.rawValue, reason, at])
            return true
        }
    }

    /// The row with this key, or nil.
    public func entry(key: String) async throws -> LedgerEntry? {
        try await pool.read { db in
            guard try self.exists(db) else { return nil }
            return try Row.fetchOne(
                db, sql: "SELECT \(Self.columns) FROM ledger WHERE idempotency_key = ?", arguments: [key]
            ).map(Self.entry)
        }
    }

    /// Rows filtered by campaign and user, newest first.
    public func entries(campaign: String?, user: String?, limit: Int) async throws -> [LedgerEntry] {
        try await entries(campaign: campaign, user: user, status: nil, limit: limit)
    }

    /// A row's status changes, oldest first.
    public func history(key: String) async throws -> [LedgerTransition] {
        try await pool.read { db in
            guard try self.exists(db) else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT h.from_status, h.to_status, h.reason, h.at FROM ledger_history h JOIN ledger l ON l.id = h.ledger_id
                    WHERE l.idempotency_key = ? ORDER BY h.id
                    """, arguments: [key]
            ).compactMap { r in
                guard let to = LedgerStatus(rawValue: r[1]) else { return nil }
                return LedgerTransition(
                    idempotencyKey: key, from: (r[0] as String?).flatMap(LedgerStatus.init(rawValue:)),
                    to: to,
                    reason: r[2], at: r[3])
            }
        }
    }

    /// Every user's sends scheduled at or after `since`, in statuses that count as a send.
    public func sendHistory(since: Int64) async throws -> [String: [SendRecord]] {
        try await pool.read { db in
            guard try self.exists(db) else { return [:] }
            let statuses = LedgerStatus.allCases.filter(\.countsAsSend).map { "'\($0.rawValue)'" }.joined(
                separator: ",")
            var out: [String: [SendRecord]] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT user, scheduled_at, channel, topic, campaign, transactional FROM ledger
                    WHERE scheduled_at >= ? AND status IN (\(statuses))
                    """, arguments: [since])
            while let r = try rows.next() {
                guard let channel = ChannelKind(rawValue: r[2]) else { continue }
                out[r[0], default: []].append(
                    SendRecord(at: r[1], channel: channel, topic: r[3], campaign: r[4], transactional: r[5]))
            }
            return out
        }
    }

    static func entry(_ r: Row) -> LedgerEntry {
        var e = LedgerEntry(
            idempotencyKey: r[1], campaign: r[2], user: r[6],
            status: LedgerStatus(rawValue: r[9]) ?? .planned,
            createdAt: r[15])
        e.id = r[0]
        e.topic = r[3]
        e.transactional = r[4]
        e.variant = r[5]
        e.channel = (r[7] as String?).flatMap(ChannelKind.init(rawValue:))
        e.address = r[8]
        e.reason = r[10]
        e.scheduledAt = r[11]
        e.attempts = r[12]
        e.providerMessageID = r[13]
        e.error = r[14]
        e.updatedAt = r[16]
        e.occurrence = r[17]
        e.triggerAt = r[18]
        e.windowEnd = r[19]
        e.sentAt = r[20]
        e.openedAt = r[21]
        e.clickedAt = r[22]
        return e
    }
}
