import HeraldCore
import HeraldLedger

import Logging
import NIOCore
import PostgresNIO

/// The send ledger in PostgreSQL, shared by several daemons (docs/campaigns.md `store.postgres`). Same rows, statuses and
/// history as `SQLiteLedger`; in addition every row carries its user's shard (`Shards.of`), claims lock rows
/// with `FOR UPDATE SKIP LOCKED` so concurrent daemons never take the same row nor wait for each other, and
/// the daemons lease shards among themselves (`balanceShards`).
///
/// Every batch is one statement over bound arrays (`unnest`), never a statement per row.
public final class PostgresLedger: DispatchLedger, Sendable {
    /// The database (shared with the audience store).
    public let database: PostgresDatabase

    /// The ledger over `database`. Does not migrate: run `PostgresStore.migrations` then `migrations` first.
    public init(database: PostgresDatabase) {
        self.database = database
    }

    var logger: Logger { database.logger }

    /// The ledger's migrations (name, SQL), to run after the audience store's: `funnels` joins its `users`,
    /// `events` and `event_names` tables.
    ///
    /// Due rows have two partial indexes: `ledger_due` (shard, scheduled_at) for one shard's queue, and
    /// `ledger_due_time` (scheduled_at), which a claim over many shards reads in time order (the plain
    /// `ledger_scheduled` would walk every sent row older than the queue).
    ///
    /// Tables: `ledger` (one row per decision, `shard` = `Shards.of(user)`), `ledger_history` (append-only; `xid`
    /// is the writing transaction, which orders `changes(after:)`), `occurrences`, `segment_members`,
    /// `shard_leases` (one row per shard, pre-filled) and `daemon_members` (live daemons).
    public static let migrations: [(name: String, sql: String)] = [
        (
            "ledger-v1",
            // One statement (a DO block): PostgresDatabase runs migrations over the extended protocol, which
            // takes a single command.
            """
            DO $migration$ BEGIN
            CREATE TABLE ledger (
              id bigserial PRIMARY KEY,
              idempotency_key text NOT NULL UNIQUE,
              campaign text NOT NULL,
              topic text,
              transactional boolean NOT NULL DEFAULT false,
              variant text,
              "user" text NOT NULL,
              channel text,
              address text,
              status text NOT NULL,
              reason text,
              scheduled_at bigint,
              attempts integer NOT NULL DEFAULT 0,
              provider_message_id text,
              error text,
              created_at bigint NOT NULL,
              updated_at bigint NOT NULL,
              occurrence text,
              trigger_at bigint,
              window_end bigint,
              lease_owner text,
              lease_until bigint,
              sent_at bigint,
              opened_at bigint,
              clicked_at bigint,
              shard smallint NOT NULL);
            CREATE INDEX ledger_user_scheduled ON ledger("user", scheduled_at);
            CREATE INDEX ledger_scheduled ON ledger(scheduled_at);
            CREATE INDEX ledger_campaign ON ledger(campaign);
            CREATE INDEX ledger_due ON ledger(shard, scheduled_at) WHERE status IN ('scheduled', 'failed');
            CREATE INDEX ledger_due_time ON ledger(scheduled_at) WHERE status IN ('scheduled', 'failed');
            CREATE INDEX ledger_leased ON ledger(shard, lease_until) WHERE status = 'sending';
            CREATE INDEX ledger_provider_id ON ledger(provider_message_id) WHERE provider_message_id IS NOT NULL;
            CREATE INDEX ledger_updated ON ledger(updated_at);
            CREATE TABLE ledger_history (
              id bigserial PRIMARY KEY,
              ledger_id bigint NOT NULL REFERENCES ledger(id),
              from_status text,
              to_status text NOT NULL,
              reason text,
              at bigint NOT NULL,
              xid xid8 NOT NULL DEFAULT pg_current_xact_id());
            CREATE INDEX ledger_history_row ON ledger_history(ledger_id);
            CREATE INDEX ledger_history_xid ON ledger_history(xid, id);
            CREATE FUNCTION ledger_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN RAISE EXCEPTION 'ledger_history is append-only'; END $$;
            CREATE TRIGGER ledger_history_append_only BEFORE UPDATE OR DELETE ON ledger_history
              FOR EACH STATEMENT EXECUTE FUNCTION ledger_history_append_only();
            CREATE TABLE occurrences (
              campaign text NOT NULL,
              occurrence text NOT NULL,
              start bigint NOT NULL,
              status text NOT NULL,
              decisions integer NOT NULL DEFAULT 0,
              detail text,
              created_at bigint NOT NULL,
              updated_at bigint NOT NULL,
              PRIMARY KEY (campaign, occurrence));
            CREATE TABLE segment_members (
              campaign text NOT NULL,
              "user" text NOT NULL,
              since bigint NOT NULL,
              PRIMARY KEY (campaign, "user"));
            CREATE TABLE shard_leases (
              shard smallint PRIMARY KEY,
              owner text,
              lease_until bigint);
            INSERT INTO shard_leases(shard) SELECT generate_series(0, \(Shards.count - 1));
            CREATE TABLE daemon_members (
              owner text PRIMARY KEY,
              until bigint NOT NULL,
              started_at bigint NOT NULL);
            END $migration$
            """
        ),
        // Engagement reads each user's sends of the last 90 days by `sent_at` (PostgresLedger+Engagement); the
        // index covers what it reads.
        (
            "ledger-v2-user-sent",
            """
            CREATE INDEX ledger_user_sent ON ledger("user", sent_at) INCLUDE (status, opened_at, clicked_at, campaign)
            WHERE sent_at IS NOT NULL
            """
        ),
        // Journey state (PostgresLedger+Journeys): kept versions, instances found by the due time of active
        // ones, step records.
        (
            "journeys-v1",
            """
            DO $migration$ BEGIN
            CREATE TABLE journey_versions (
              journey text NOT NULL, version text NOT NULL, file text NOT NULL, source text NOT NULL,
              PRIMARY KEY (journey, version));
            CREATE TABLE journey_instances (
              journey text NOT NULL, id text NOT NULL, "user" text NOT NULL, version text NOT NULL,
              status text NOT NULL, step text NOT NULL, reached_at bigint NOT NULL, due_at bigint,
              message_key text, entered_at bigint NOT NULL, moves integer NOT NULL DEFAULT 0,
              shard smallint NOT NULL,
              PRIMARY KEY (journey, "user", id));
            CREATE INDEX journey_due ON journey_instances(shard, due_at) WHERE status = 'active';
            CREATE INDEX journey_due_time ON journey_instances(due_at) WHERE status = 'active';
            CREATE INDEX journey_user ON journey_instances("user", status);
            CREATE TABLE journey_steps (
              id bigserial PRIMARY KEY, journey text NOT NULL, instance text NOT NULL, "user" text NOT NULL,
              step text NOT NULL, at bigint NOT NULL, outcome text NOT NULL, next text NOT NULL);
            CREATE INDEX journey_steps_instance ON journey_steps(journey, "user", instance);
            END $migration$
            """
        ),
        // Operators' switches (PostgresLedger+Controls).
        (
            "controls-v1",
            """
            DO $migration$ BEGIN
            CREATE TABLE controls (
              subject text NOT NULL, kind text NOT NULL, at bigint NOT NULL, by text NOT NULL, reason text,
              PRIMARY KEY (subject, kind));
            CREATE TABLE control_history (
              id bigserial PRIMARY KEY, subject text NOT NULL, kind text NOT NULL, turned_on boolean NOT NULL,
              at bigint NOT NULL, by text NOT NULL, reason text);
            END $migration$
            """
        ),
        // The row whose unsubscribe link was used (PostgresLedger+Experiments).
        ("experiments-v1", "ALTER TABLE ledger ADD COLUMN unsubscribed_at bigint"),
    ]

    /// The columns `entry(_:at:)` decodes, in order.
    static let columns = """
        id, idempotency_key, campaign, topic, transactional, variant, "user", channel, address, status, reason,
        scheduled_at, attempts, provider_message_id, error, created_at, updated_at,
        occurrence, trigger_at, window_end, sent_at, opened_at, clicked_at
        """

    /// `columns` qualified with `l.`.
    static let joinedColumns = columns.split(separator: ",")
        .map { "l." + $0.filter { !$0.isWhitespace } }.joined(separator: ", ")

    /// The number of columns in `columns`.
    static let columnCount = 23

    /// Statuses that count as a send, as an SQL list.
    static let sendStatuses = LedgerStatus.allCases.filter(\.countsAsSend).map { "'\($0.rawValue)'" }
        .joined(separator: ", ")

    // MARK: Running statements

    /// Runs `body` on a pooled connection; errors say what was being done and the server's message.
    /// With `ifMissing`, a ledger whose tables do not exist yet (never migrated) reads as `ifMissing`, as
    /// `SQLiteLedger` reads an absent ledger as empty.
    func read<T: Sendable>(
        _ what: String, ifMissing: T? = nil, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        do {
            return try await database.connection(body)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P01" && ifMissing != nil {
            return ifMissing!
        } catch {
            throw Self.describe(error, what)
        }
    }

    /// Runs `body` in one transaction, retried on a conflict with another writer (`PostgresDatabase.write`);
    /// errors say what was being done and the server's message.
    func write<T: Sendable>(_ what: String, _ body: (PostgresConnection) async throws -> T) async throws -> T
    {
        do {
            return try await database.write(body)
        } catch {
            throw Self.describe(error, what)
        }
    }

    /// `error` as a `PostgresStoreError` naming the operation and the server's message (postgres-nio's own
    /// description hides it); never includes bound values.
    static func describe(_ error: any Error, _ what: String) -> any Error {
        if error is PostgresStoreError || error is CancellationError { return error }
        if let t = error as? PostgresTransactionError {
            if let e = t.closureError ?? t.beginError ?? t.commitError { return describe(e, what) }
        }
        if let p = error as? PSQLError {
            if let info = p.serverInfo, let message = info[.message] {
                let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return PostgresStoreError("ledger: \(what): \(message)\(state)", sqlState: info[.sqlState])
            }
            return PostgresStoreError("ledger: \(what): \(p.code)")
        }
        if error is PostgresDecodingError {
            return PostgresStoreError("ledger: \(what): unexpected column type (is the schema migrated?)")
        }
        return PostgresStoreError("ledger: \(what): \(error)")
    }

    /// Runs `query` and collects its rows.
    func rows(_ query: PostgresQuery, _ conn: PostgresConnection) async throws -> [PostgresRow] {
        try await conn.query(query, logger: logger).collect()
    }

    /// Runs `query`, whose first row's first column is a count or id (nil without rows).
    func scalar<T: PostgresDecodable>(_ type: T.Type, _ query: PostgresQuery, _ conn: PostgresConnection)
        async throws -> T? where T._DecodableType == T
    {
        guard let row = try await rows(query, conn).first else { return nil }
        return try row.makeRandomAccess()[0].decode(T?.self)
    }

    /// The entry in `row` starting at column `base` (the order of `columns`).
    static func entry(_ row: PostgresRandomAccessRow, at base: Int = 0) throws -> LedgerEntry {
        func text(_ i: Int) throws -> String? { try row[base + i].decode(String?.self) }
        func int(_ i: Int) throws -> Int64? { try row[base + i].decode(Int64?.self) }
        var e = LedgerEntry(
            idempotencyKey: try text(1) ?? "", campaign: try text(2) ?? "", user: try text(6) ?? "",
            status: LedgerStatus(rawValue: try text(9) ?? "") ?? .planned, createdAt: try int(15) ?? 0)
        e.id = try int(0)
        e.topic = try text(3)
        e.transactional = try row[base + 4].decode(Bool.self)
        e.variant = try text(5)
        e.channel = try text(7).flatMap(ChannelKind.init(rawValue:))
        e.address = try text(8)
        e.reason = try text(10)
        e.scheduledAt = try int(11)
        e.attempts = try row[base + 12].decode(Int.self)
        e.providerMessageID = try text(13)
        e.error = try text(14)
        e.updatedAt = try int(16) ?? e.createdAt
        e.occurrence = try text(17)
        e.triggerAt = try int(18)
        e.windowEnd = try int(19)
        e.sentAt = try int(20)
        e.openedAt = try int(21)
        e.clickedAt = try int(22)
        return e
    }

    /// Decodes every row of `rows` as an entry.
    static func entries(_ rows: [PostgresRow]) throws -> [LedgerEntry] {
        try rows.map { try entry($0.makeRandomAccess()) }
    }

    // MARK: LedgerStore

    /// Inserts rows whose key is new (existing keys are left untouched), each with its first history entry, in
    /// one statement; returns how many were inserted.
    public func record(_ entries: [LedgerEntry]) async throws -> Int {
        guard !entries.isEmpty else { return 0 }
        return try await write("record") { conn in try await self.insert(entries, conn) }
    }

    /// Rows bound in one INSERT: some 25 MB of parameters, far under the protocol's 1 GB message limit (the
    /// 100,000-user scale-out test writes its occurrence in two slices).
    static let insertSlice = 50_000

    /// Inserts rows whose key is new with their first history entries, inside the caller's transaction: one
    /// statement per slice of `insertSlice` rows. Within the batch the first row with a key wins, as with SQLite.
    func insert(_ entries: [LedgerEntry], _ conn: PostgresConnection) async throws -> Int {
        // PostgreSQL refuses a protocol message over 1 GB ("invalid message length"): a multi-million-row
        // occurrence is written in slices, all in the caller's transaction.
        guard entries.count <= Self.insertSlice else {
            var inserted = 0
            for start in stride(from: 0, to: entries.count, by: Self.insertSlice) {
                inserted += try await insert(
                    Array(entries[start..<min(entries.count, start + Self.insertSlice)]), conn)
            }
            return inserted
        }
        guard !entries.isEmpty else { return 0 }
        let keys = entries.map(\.idempotencyKey)
        let campaigns = entries.map(\.campaign)
        let topics = NullableArray(entries.map(\.topic))
        let transactional = entries.map(\.transactional)
        let variants = NullableArray(entries.map(\.variant))
        let users = entries.map(\.user)
        let channels = NullableArray(entries.map { $0.channel?.rawValue })
        let addresses = NullableArray(entries.map(\.address))
        let statuses = entries.map(\.status.rawValue)
        let reasons = NullableArray(entries.map(\.reason))
        let scheduled = NullableArray(entries.map(\.scheduledAt))
        let attempts = entries.map { Int64($0.attempts) }
        let providerIDs = NullableArray(entries.map(\.providerMessageID))
        let errors = NullableArray(entries.map(\.error))
        let created = entries.map(\.createdAt)
        let updated = entries.map(\.updatedAt)
        let occurrences = NullableArray(entries.map(\.occurrence))
        let triggers = NullableArray(entries.map(\.triggerAt))
        let windowEnds = NullableArray(entries.map(\.windowEnd))
        let sent = NullableArray(entries.map(\.sentAt))
        let shards = entries.map { Int16(Shards.of($0.user)) }
        let query: PostgresQuery = """
            WITH input AS (
              SELECT * FROM unnest(\(keys)::text[], \(campaigns)::text[], \(topics)::text[], \(transactional)::boolean[],
                \(variants)::text[], \(users)::text[], \(channels)::text[], \(addresses)::text[], \(statuses)::text[],
                \(reasons)::text[], \(scheduled)::bigint[], \(attempts)::bigint[], \(providerIDs)::text[],
                \(errors)::text[], \(created)::bigint[], \(updated)::bigint[], \(occurrences)::text[],
                \(triggers)::bigint[], \(windowEnds)::bigint[], \(sent)::bigint[], \(shards)::smallint[])
                WITH ORDINALITY AS x(idempotency_key, campaign, topic, transactional, variant, "user", channel,
                  address, status, reason, scheduled_at, attempts, provider_message_id, error, created_at,
                  updated_at, occurrence, trigger_at, window_end, sent_at, shard, ord)),
            inserted AS (
              INSERT INTO ledger(idempotency_key, campaign, topic, transactional, variant, "user", channel, address,
                status, reason, scheduled_at, attempts, provider_message_id, error, created_at, updated_at,
                occurrence, trigger_at, window_end, sent_at, shard)
              SELECT idempotency_key, campaign, topic, transactional, variant, "user", channel, address, status,
                reason, scheduled_at, attempts, provider_message_id, error, created_at, updated_at, occurrence,
                trigger_at, window_end, sent_at, shard
              FROM input ORDER BY ord
              ON CONFLICT (idempotency_key) DO NOTHING
              RETURNING id, status, reason, created_at),
            history AS (
              INSERT INTO ledger_history(ledger_id, from_status, to_status, reason, at)
              SELECT id, NULL, status, reason, created_at FROM inserted ORDER BY id)
            SELECT count(*) FROM inserted
            """
        return Int(try await scalar(Int64.self, query, conn) ?? 0)
    }

    /// Moves a row to `status` and appends the change to its history; `sending` counts an attempt. False when
    /// the key is unknown.
    public func updateStatus(
        key: String, to status: LedgerStatus, reason: String?, error: String?, providerMessageID: String?,
        at: Int64
    ) async throws -> Bool {
        try await write("update status") { conn in
            let s = status.rawValue
            let query: PostgresQuery = """
                WITH old AS (SELECT id, status FROM ledger WHERE idempotency_key = \(key) FOR UPDATE),
                moved AS (
                  UPDATE ledger l SET status = \(s), reason = coalesce(\(reason)::text, l.reason),
                    error = coalesce(\(error)::text, l.error),
                    provider_message_id = coalesce(\(providerMessageID)::text, l.provider_message_id),
                    attempts = l.attempts + (CASE WHEN \(s) = 'sending' THEN 1 ELSE 0 END), updated_at = \(at)
                  FROM old WHERE l.id = old.id RETURNING l.id, old.status AS from_status),
                history AS (
                  INSERT INTO ledger_history(ledger_id, from_status, to_status, reason, at)
                  SELECT id, from_status, \(s), \(reason)::text, \(at) FROM moved)
                SELECT count(*) FROM moved
                """
            return try await self.scalar(Int64.self, query, conn) ?? 0 > 0
        }
    }

    /// The row with this key, or nil.
    public func entry(key: String) async throws -> LedgerEntry? {
        try await read("read entry", ifMissing: Optional<LedgerEntry>.none) { conn in
            try Self.entries(
                try await self.rows(
                    "SELECT \(unescaped: Self.columns) FROM ledger WHERE idempotency_key = \(key)", conn)
            ).first
        }
    }

    /// Rows filtered by campaign and user, newest first.
    public func entries(campaign: String?, user: String?, limit: Int) async throws -> [LedgerEntry] {
        try await entries(campaign: campaign, user: user, status: nil, limit: limit)
    }

    /// A row's status changes, oldest first.
    public func history(key: String) async throws -> [LedgerTransition] {
        try await read("read history", ifMissing: []) { conn in
            let rows = try await self.rows(
                """
                SELECT h.from_status, h.to_status, h.reason, h.at FROM ledger_history h JOIN ledger l ON l.id = h.ledger_id
                WHERE l.idempotency_key = \(key) ORDER BY h.id
                """, conn)
            return try rows.compactMap { row in
                let (from, to, reason, at) = try row.decode((String?, String, String?, Int64).self)
                guard let to = LedgerStatus(rawValue: to) else { return nil }
                return LedgerTransition(
                    idempotencyKey: key, from: from.flatMap(LedgerStatus.init(rawValue:)), to: to,
                    reason: reason,
                    at: at)
            }
        }
    }

    /// Every user's sends scheduled at or after `since`, in statuses that count as a send.
    public func sendHistory(since: Int64) async throws -> [String: [SendRecord]] {
        try await read("read send history", ifMissing: [:]) { conn in
            let rows = try await self.rows(
                """
                SELECT "user", scheduled_at, channel, topic, campaign, transactional FROM ledger
                WHERE scheduled_at >= \(since) AND status IN (\(unescaped: Self.sendStatuses))
                """, conn)
            return try Self.sendRecords(rows)
        }
    }

    /// Groups rows of (user, at, channel, topic, campaign, transactional) by user; rows without a known channel
    /// are left out, as with SQLite.
    static func sendRecords(_ rows: [PostgresRow]) throws -> [String: [SendRecord]] {
        var out: [String: [SendRecord]] = [:]
        for row in rows {
            let r = row.makeRandomAccess()
            guard let channel = try r[2].decode(String?.self).flatMap(ChannelKind.init(rawValue:)) else {
                continue
            }
            out[try r[0].decode(String.self), default: []].append(
                SendRecord(
                    at: try r[1].decode(Int64.self), channel: channel, topic: try r[3].decode(String?.self),
                    campaign: try r[4].decode(String.self), transactional: try r[5].decode(Bool.self)))
        }
        return out
    }
}

/// A one-dimensional PostgreSQL array bound as one parameter whose elements may be NULL (postgres-nio encodes
/// arrays of non-optional elements only). Text or bigint elements.
struct NullableArray<Element: PostgresArrayEncodable & PostgresNonThrowingEncodable & Sendable>:
    PostgresNonThrowingEncodable, Sendable
{
    var elements: [Element?]

    init(_ elements: [Element?]) { self.elements = elements }

    static var psqlType: PostgresDataType { Element.psqlArrayType }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        // The binary array format: dimensions, has-nulls flag, element type; then the length and lower bound of
        // the one dimension; then each element as a length (-1 for NULL) and its bytes.
        buffer.writeInteger(elements.isEmpty ? 0 : 1, as: Int32.self)
        buffer.writeInteger(elements.contains { $0 == nil } ? 1 : 0, as: Int32.self)
        buffer.writeInteger(Element.psqlType.rawValue)
        guard !elements.isEmpty else { return }
        buffer.writeInteger(Int32(elements.count), as: Int32.self)
        buffer.writeInteger(1, as: Int32.self)
        for element in elements {
            guard let element else {
                buffer.writeInteger(-1, as: Int32.self)
                continue
            }
            let lengthIndex = buffer.writerIndex
            buffer.writeInteger(0, as: Int32.self)
            let start = buffer.writerIndex
            element.encode(into: &buffer, context: context)
            buffer.setInteger(Int32(buffer.writerIndex - start), at: lengthIndex, as: Int32.self)
        }
    }
}
