import Crypto
import Foundation
import GRDB
import HeraldLedger
import HeraldPostgres
import Logging
import struct PostgresNIO.PSQLError
import struct PostgresNIO.PostgresBindings
import class PostgresNIO.PostgresConnection
import struct PostgresNIO.PostgresQuery
import struct NIOCore.ByteBuffer
import struct NIOCore.ByteBufferAllocator
import struct PostgresNIO.PostgresTransactionError

/// Why a SQLite → PostgreSQL migration stopped. The description names the table, column and row at fault
/// and never holds a password.
public struct StoreMigrationError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure, so callers can choose an exit code.
    public enum Kind: Sendable {
        /// The target already holds Herald rows.
        case targetNotEmpty
        /// The two schemas cannot be matched (a missing table or column).
        case schema
        /// A source value cannot be written to its target column.
        case value
        /// The target server could not be reached in time.
        case unreachable
    }

    /// What kind of failure.
    public var kind: Kind
    /// What went wrong.
    public var description: String

    /// An error.
    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

/// One table's verification: rows and checksum on both sides.
public struct MigratedTable: Sendable, Equatable {
    /// The table name (the same on both sides).
    public var table: String
    /// Rows in the SQLite source.
    public var sourceRows: Int
    /// Rows in the PostgreSQL target.
    public var targetRows: Int
    /// SHA-256 (hex) over the canonical text of every source row, in primary-key order.
    public var sourceChecksum: String
    /// The same over the target's rows.
    public var targetChecksum: String

    /// True when both sides have the same rows.
    public var ok: Bool { sourceRows == targetRows && sourceChecksum == targetChecksum }
}

/// Copies a Herald SQLite store (audience and ledger) into an empty PostgreSQL database whose schema was
/// created by `PostgresStore.migrations` and `PostgresLedger.migrations`, then verifies it.
///
/// Tables are matched by name and columns by name against the target's `information_schema`, so the copier
/// follows both schemas as they grow. Target columns the source lacks are derived (`ledger.shard` =
/// `Shards.of(user)`) or left to their default. Tables are copied parents first (the target's foreign keys),
/// each read from SQLite in primary-key order in batches and streamed with `COPY … FROM STDIN`, all in one
/// PostgreSQL transaction: a failure leaves the target empty. Ids are kept; sequences are then moved past them.
public struct SQLiteToPostgres: Sendable {
    /// The source (opened read-only by `openSource`).
    public let source: any DatabaseReader
    /// The target.
    public let target: PostgresDatabase
    /// Rows per SQLite read and per COPY write.
    public var batchSize = 20_000
    let logger: Logger

    /// A copier from `source` to `target`.
    public init(
        source: any DatabaseReader, target: PostgresDatabase, logger: Logger = Logger(label: "herald.migrate")
    ) {
        self.source = source
        self.target = target
        self.logger = logger
    }

    /// A copier from the SQLite file at `sourcePath`, opened read-only (fails when it does not exist).
    public init(sourcePath: String, target: PostgresDatabase) throws {
        guard FileManager.default.fileExists(atPath: sourcePath) else {
            throw StoreMigrationError(.schema, "no SQLite store at \(sourcePath)")
        }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        // A pool reads several tables at once (WAL stores, as Herald writes them); a queue otherwise.
        let reader: any DatabaseReader
        do {
            reader = try DatabasePool(path: sourcePath, configuration: config)
        } catch {
            reader = try DatabaseQueue(path: sourcePath, configuration: config)
        }
        self.init(source: reader, target: target)
    }

    /// The target schema: the store's migrations, then the ledger's.
    public static var targetMigrations: [(name: String, sql: String)] {
        PostgresStore.migrations + PostgresLedger.migrations
    }

    /// Fails with `.unreachable` unless `target` answers a query within `timeout` (the pool itself retries a
    /// refused or failed connection for a long time, silently).
    public static func checkReachable(_ target: PostgresDatabase, timeout: Duration = .seconds(10))
        async throws
    {
        let answered = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await target.connection { c in _ = try await c.query("SELECT 1", logger: target.logger) }
                return true
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
        guard answered else {
            throw StoreMigrationError(
                .unreachable,
                "no connection to \(target.displayURL) within \(timeout.components.seconds) s: is PostgreSQL running "
                    + "there, and does it accept this user and database?")
        }
    }

    /// An error from PostgreSQL as one line: its server message, or what failed on the way (never credentials:
    /// postgres-nio's own description hides everything).
    public static func describe(_ error: any Error) -> String {
        guard let e = error as? PSQLError else { return "\(error)" }
        if let message = e.serverInfo?[.message] { return message }
        if let underlying = e.underlying { return "\(e.code): \(underlying)" }
        return "\(e.code)"
    }

    // MARK: Planning

    /// The copy plan: the tables both sides have, parents first, with their columns matched.
    public func plan() async throws -> [TablePlan] {
        let sourceTables = try await source.read { db in try Self.sourceSchema(db) }
        let (targetColumns, edges) = try await target.connection { conn in
            try await (Self.targetSchema(conn, logger: logger), Self.foreignKeys(conn, logger: logger))
        }
        var plans: [TablePlan] = []
        for s in sourceTables {
            guard let columns = targetColumns[s.name] else {
                if s.rows > 0 {
                    throw StoreMigrationError(
                        .schema,
                        "the target has no table \(s.name) for the source's \(s.rows) rows (is its schema migrated?)"
                    )
                }
                continue
            }
            plans.append(try TablePlan(source: s, target: columns))
        }
        return Self.parentsFirst(plans, edges: edges)
    }

    /// Orders `plans` so that every table comes after the tables its foreign keys reference (source order
    /// otherwise).
    static func parentsFirst(_ plans: [TablePlan], edges: [(child: String, parent: String)]) -> [TablePlan] {
        let names = Set(plans.map(\.table))
        var parents: [String: Set<String>] = [:]
        for e in edges where names.contains(e.parent) && e.child != e.parent {
            parents[e.child, default: []].insert(e.parent)
        }
        var done = Set<String>()
        var out: [TablePlan] = []
        var pending = plans
        while !pending.isEmpty {
            let ready = pending.firstIndex { parents[$0.table, default: []].isSubset(of: done) } ?? 0
            let p = pending.remove(at: ready)
            done.insert(p.table)
            out.append(p)
        }
        return out
    }

    /// The source's tables (Herald's, not SQLite's or GRDB's own), in creation order. The change feed
    /// (`changes`) is not moved: it only tells processes running on the live store what changed, and
    /// PostgreSQL numbers its entries by transaction id, which SQLite's sequence numbers would collide with.
    static func sourceSchema(_ db: Database) throws -> [SourceTable] {
        let names = try String.fetchAll(
            db,
            sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                  AND name NOT IN ('grdb_migrations', 'changes') ORDER BY rowid
                """)
        return try names.map { name in
            let info = try Row.fetchAll(db, sql: "PRAGMA table_info(\(quoted(name)))")
            let columns: [String] = info.map { $0["name"] }
            let key = info.filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }
                .map { $0["name"] as String }
            let rows = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(quoted(name))") ?? 0
            let sequence = try Int64.fetchOne(
                db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [name])
            return SourceTable(name: name, columns: columns, key: key, rows: rows, sequence: sequence)
        }
    }

    /// The target's columns by table (current schema).
    static func targetSchema(_ conn: PostgresConnection, logger: Logger) async throws -> [String:
        [TargetColumn]]
    {
        let rows = try await conn.query(
            """
            SELECT table_name::text, column_name::text, data_type::text, is_nullable::text = 'YES',
              column_default IS NOT NULL OR is_identity::text = 'YES', is_generated::text = 'ALWAYS'
            FROM information_schema.columns WHERE table_schema = current_schema()
            ORDER BY table_name, ordinal_position
            """, logger: logger)
        var out: [String: [TargetColumn]] = [:]
        for try await (table, column, type, nullable, hasDefault, generated) in rows.decode(
            (String, String, String, Bool, Bool, Bool).self)
        {
            out[table, default: []].append(
                TargetColumn(
                    name: column, type: type, family: ValueFamily(type), nullable: nullable,
                    hasDefault: hasDefault,
                    generated: generated))
        }
        return out
    }

    /// The target's foreign keys as (child table, parent table).
    static func foreignKeys(_ conn: PostgresConnection, logger: Logger) async throws -> [(
        child: String, parent: String
    )] {
        let rows = try await conn.query(
            """
            SELECT c.relname::text, p.relname::text FROM pg_constraint k
            JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
            WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace
            """, logger: logger)
        var out: [(child: String, parent: String)] = []
        for try await (child, parent) in rows.decode((String, String).self) { out.append((child, parent)) }
        return out
    }

    // MARK: Copying

    /// Copies every planned table in one transaction and moves the target's sequences past the copied ids.
    /// Refuses (`.targetNotEmpty`) when any planned target table already has rows. `progress` receives the
    /// table and its rows copied so far. Returns the rows copied per table.
    @discardableResult
    public func copy(
        _ plans: [TablePlan], progress: (String, Int) -> Void = { _, _ in }
    ) async throws -> [String: Int] {
        do {
            return try await copyInTransaction(plans, progress: progress)
        } catch let e as PostgresTransactionError {
            throw e.closureError ?? e
        }
    }

    /// `copy`'s transaction.
    private func copyInTransaction(_ plans: [TablePlan], progress: (String, Int) -> Void) async throws
        -> [String: Int]
    {
        try await target.transaction { conn in
            var occupied: [String] = []
            for p in plans {
                let rows = try await conn.query(
                    PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(quoted(p.table)))"),
                    logger: logger)
                for try await found in rows.decode(Bool.self) where found { occupied.append(p.table) }
            }
            guard occupied.isEmpty else {
                throw StoreMigrationError(
                    .targetNotEmpty,
                    "the target already holds Herald data (in \(occupied.joined(separator: ", "))); "
                        + "migrate into an empty database: createdb a new one (or DROP and CREATE it) and run again"
                )
            }
            var copied: [String: Int] = [:]
            var before = 0
            for p in plans {
                let n = try await copyTable(p, before: before, conn: conn, progress: progress)
                copied[p.table] = n
                before += n
                try await advanceSequences(p, conn: conn)
            }
            return copied
        }
    }

    /// Streams one table with `COPY FROM STDIN`, reading the next batch from SQLite while the current one is sent.
    private func copyTable(
        _ p: TablePlan, before: Int, conn: PostgresConnection, progress: (String, Int) -> Void
    ) async throws -> Int {
        var total = 0
        let source = self.source
        let size = batchSize
        do {
            try await conn.copyFrom(table: p.table, columns: p.columns.map(\.name), logger: logger) {
                writer in
                var batch = try await Self.readBatch(p, from: source, after: nil, limit: size)
                while batch.rows > 0 {
                    let last = batch.lastKey
                    let full = batch.rows == size
                    async let next =
                        full ? Self.readBatch(p, from: source, after: last, limit: size) : Batch.empty
                    try await writer.write(batch.copyText)
                    total += batch.rows
                    progress(p.table, before + total)
                    batch = try await next
                }
            }
        } catch let e as StoreMigrationError {
            throw e
        } catch let e as PSQLError {
            throw StoreMigrationError(
                .value,
                "copying \(p.table): \(e.serverInfo?[.message] ?? String(reflecting: e))"
                    + (e.serverInfo?[.locationContext].map { " (\($0))" } ?? ""))
        }
        return total
    }

    /// Sets every serial or identity sequence of `p`'s columns past the largest copied id (and past SQLite's
    /// AUTOINCREMENT high-water mark, so ids of pruned rows are never reused).
    private func advanceSequences(_ p: TablePlan, conn: PostgresConnection) async throws {
        for c in p.columns where c.family == .integer {
            let found = try await conn.query(
                "SELECT pg_get_serial_sequence(\(quoted(p.table)), \(c.name))", logger: logger)
            var sequence: String?
            for try await s in found.decode(String?.self) { sequence = s }
            guard let sequence else { continue }
            let floor =
                c.sourceColumn.flatMap { p.key == [p.sourceColumns[$0]] ? p.sourceSequence : nil } ?? 0
            try await conn.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT setval($1::regclass, greatest(coalesce(max(\(quoted(c.name))), 0), $2::bigint, 1),
                          greatest(coalesce(max(\(quoted(c.name))), 0), $2::bigint) > 0)
                        FROM \(quoted(p.table))
                        """,
                    binds: {
                        var b = PostgresBindings()
                        b.append(sequence)
                        b.append(floor)
                        return b
                    }()), logger: logger)
        }
    }

    /// One batch read from SQLite: its rows as COPY text, how many, and the key of the last.
    struct Batch: Sendable {
        var copyText: ByteBuffer
        var rows: Int
        var lastKey: [DatabaseValue]?

        static var empty: Batch { Batch(copyText: ByteBuffer(), rows: 0, lastKey: nil) }
    }

    /// Reads up to `limit` rows after `after` (primary-key order) and encodes them as COPY text.
    static func readBatch(
        _ p: TablePlan, from source: any DatabaseReader, after: [DatabaseValue]?, limit: Int
    ) async throws -> Batch {
        try await source.read { db in
            var buffer = ByteBufferAllocator().buffer(capacity: limit * 64)
            var rows = 0
            var lastKey: [DatabaseValue]?
            let cursor = try Row.fetchCursor(
                db, sql: p.selectSQL(after: after != nil),
                arguments: StatementArguments((after ?? []) + [limit.databaseValue]))
            var values = [String?](repeating: nil, count: p.columns.count)
            while let row = try cursor.next() {
                for (i, c) in p.columns.enumerated() { values[i] = try p.value(c, row) }
                for (i, v) in values.enumerated() {
                    if i > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                    if let v { writeEscaped(v, to: &buffer) } else { buffer.writeStaticString("\\N") }
                }
                buffer.writeInteger(UInt8(ascii: "\n"))
                rows += 1
                lastKey = p.keyIndexes.map { row[$0] as DatabaseValue }
            }
            return Batch(copyText: buffer, rows: rows, lastKey: lastKey)
        }
    }

    /// Writes `text` as a COPY text-format field (backslash escapes for backslash, tab, newline, CR).
    static func writeEscaped(_ text: String, to buffer: inout ByteBuffer) {
        var plain = true
        for b in text.utf8 where b == UInt8(ascii: "\\") || b == 9 || b == 10 || b == 13 {
            plain = false
            break
        }
        if plain {
            buffer.writeString(text)
            return
        }
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case 9: buffer.writeStaticString("\\t")
            case 10: buffer.writeStaticString("\\n")
            case 13: buffer.writeStaticString("\\r")
            default: buffer.writeInteger(b)
            }
        }
    }

    // MARK: Verifying

    /// Counts and checksums every planned table on both sides (after the copy committed).
    public func verify(_ plans: [TablePlan]) async throws -> [MigratedTable] {
        // A few tables at a time, each read on both sides at once.
        try await withThrowingTaskGroup(of: (Int, MigratedTable).self) { group in
            var results = [MigratedTable?](repeating: nil, count: plans.count)
            var next = 0
            while next < plans.count || !group.isEmpty {
                while next < plans.count && next - results.count(where: { $0 != nil }) < 3 {
                    let i = next
                    group.addTask { (i, try await self.verify(plans[i])) }
                    next += 1
                }
                if let (i, r) = try await group.next() { results[i] = r }
            }
            return results.compactMap { $0 }
        }
    }

    /// Counts and checksums one table on both sides.
    func verify(_ p: TablePlan) async throws -> MigratedTable {
        async let s = sourceChecksum(p)
        let t = try await targetChecksum(p)
        let (rows, sum) = try await s
        return MigratedTable(
            table: p.table, sourceRows: rows, targetRows: t.rows, sourceChecksum: sum, targetChecksum: t.sum)
    }

    /// The source side of `verify`: rows and checksum of `p` read from SQLite.
    func sourceChecksum(_ p: TablePlan) async throws -> (rows: Int, sum: String) {
        var digest = RowDigest(columns: p.columns.map(\.family))
        var after: [DatabaseValue]?
        let size = batchSize
        while true {
            let start = after
            let (rows, last, bytes) = try await source.read { db in
                var d = RowDigest(columns: p.columns.map(\.family))
                var last: [DatabaseValue]?
                let cursor = try Row.fetchCursor(
                    db, sql: p.selectSQL(after: start != nil),
                    arguments: StatementArguments((start ?? []) + [size.databaseValue]))
                while let row = try cursor.next() {
                    for c in p.columns { d.add(try p.value(c, row, forChecksum: true)) }
                    d.endRow()
                    last = p.keyIndexes.map { row[$0] as DatabaseValue }
                }
                return (d.rows, last, d.pending)
            }
            digest.absorb(rows: rows, bytes: bytes)
            guard rows == size, let last else { break }
            after = last
        }
        return (digest.rows, digest.finish())
    }

    /// The target side of `verify`: rows and checksum of `p` read back from PostgreSQL, text values ordered
    /// byte-wise (`COLLATE "C"`) as SQLite orders them.
    func targetChecksum(_ p: TablePlan) async throws -> (rows: Int, sum: String) {
        // Columns are qualified so that ORDER BY sorts the stored values, not the selected text.
        let select = p.columns.map {
            $0.family == .textArray
                ? "array_to_json(t.\(quoted($0.name)))::text" : "t.\(quoted($0.name))::text"
        }.joined(separator: ", ")
        let order = p.key.map { k in
            let c = p.columns.first { $0.name == k }
            return "t." + quoted(k) + (c?.family == .text ? " COLLATE \"C\"" : "")
        }.joined(separator: ", ")
        return try await target.connection { conn in
            let rows = try await conn.query(
                PostgresQuery(unsafeSQL: "SELECT \(select) FROM \(quoted(p.table)) AS t ORDER BY \(order)"),
                logger: logger)
            var digest = RowDigest(columns: p.columns.map(\.family))
            for try await row in rows {
                for (i, cell) in row.enumerated() {
                    digest.add(
                        cell.bytes.map { p.columns[i].family.canonical(targetText: String(buffer: $0)) })
                }
                digest.endRow()
                if digest.pending.count > 1 << 20 {
                    let bytes = digest.take()
                    digest.absorb(rows: 0, bytes: bytes)
                }
            }
            return (digest.rows, digest.finish())
        }
    }
}

/// A source table as SQLite describes it.
struct SourceTable: Sendable {
    var name: String
    var columns: [String]
    var key: [String]
    var rows: Int
    /// `sqlite_sequence`'s value (AUTOINCREMENT tables), or nil.
    var sequence: Int64?
}

/// A target column as `information_schema.columns` describes it.
struct TargetColumn: Sendable {
    var name: String
    var type: String
    var family: ValueFamily
    var nullable: Bool
    var hasDefault: Bool
    var generated: Bool
}

/// How PostgreSQL column types take and give back values: decides the COPY text of a source value and the
/// canonical text both sides are checksummed over.
public enum ValueFamily: Sendable, Equatable {
    case integer, float, boolean, text, json, bytes, textArray

    /// The family of a type as `information_schema.columns.data_type` names it (arrays are taken as `text[]`).
    init(_ type: String) {
        switch type {
        case "ARRAY": self = .textArray
        case "smallint", "integer", "bigint": self = .integer
        case "double precision", "real", "numeric": self = .float
        case "boolean": self = .boolean
        case "json", "jsonb": self = .json
        case "bytea": self = .bytes
        default: self = .text
        }
    }

    /// The canonical text of a value PostgreSQL returned as text.
    func canonical(targetText t: String) -> String {
        switch self {
        case .integer, .text, .bytes: t
        case .float: Double(t).map(ValueFamily.format) ?? t
        case .boolean: t == "true" || t == "t" ? "t" : "f"
        case .json, .textArray: t  // read back as JSON; RowDigest canonicalises it on both sides
        }
    }

    /// A double as text both Swift and PostgreSQL read back exactly.
    static func format(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return "\(d)"
    }

    /// JSON text with sorted keys and numbers as doubles (as `jsonb` normalises), or nil when not JSON.
    static func canonicalJSON(_ text: String) -> String? {
        guard let v = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)
        else {
            return nil
        }
        var out = ""
        func emit(_ v: Any) {
            switch v {
            case let d as [String: Any]:
                out += "{"
                for (i, k) in d.keys.sorted().enumerated() {
                    if i > 0 { out += "," }
                    out += k.debugDescription + ":"
                    emit(d[k]!)
                }
                out += "}"
            case let a as [Any]:
                out += "["
                for (i, x) in a.enumerated() {
                    if i > 0 { out += "," }
                    emit(x)
                }
                out += "]"
            case let s as String: out += s.debugDescription
            case let n as NSNumber:
                out +=
                    String(cString: n.objCType) == "c"
                    ? (n.boolValue ? "true" : "false") : format(n.doubleValue)
            default: out += "null"
            }
        }
        emit(v)
        return out
    }
}

/// The copy plan of one table.
public struct TablePlan: Sendable {
    /// How one target column is filled.
    struct Column: Sendable {
        /// The target column.
        var name: String
        /// Its type family.
        var family: ValueFamily
        /// Index in the source SELECT list of the value, or nil when derived.
        var sourceColumn: Int?
        /// Index of the source user id the shard is computed from (`ledger.shard`).
        var shardOf: Int?
        /// For a column split out of a dynamically typed source column: the index of the type code and the
        /// codes whose values go to this column (`user_attributes.value_*`).
        var split: (typeColumn: Int, codes: Set<Int64>)?
        /// A fixed value for every copied row.
        var fixed: String?
    }

    /// Source columns the target splits by a type code: table → (value column, type column, target column →
    /// the codes it holds). `PostgresStore.migrations` documents `user_attributes`' split: 1 number
    /// (`value_num`), 2 bool and 4 timestamp (`value_int`), 3 string (`value_text`), 5 list (`value_list`, from
    /// the JSON array text).
    static let splits: [String: (value: String, type: String, columns: [String: Set<Int64>])] = [
        "user_attributes": (
            "value", "type", ["value_num": [1], "value_int": [2, 4], "value_text": [3], "value_list": [5]]
        )
    ]

    /// Target columns given a fixed value in copied rows instead of their default. `ledger_history.xid` is '0'
    /// (history older than any reader's cursor), rather than the copy's one transaction id, which would make the
    /// whole copied history one transaction that `PostgresLedger.changes(after:)` returns as a single page.
    static let fixedValues: [String: [String: String]] = [
        "ledger_history": ["xid": "0"],
    ]

    /// The table (same name on both sides).
    public let table: String
    /// Rows in the source when planned.
    public let sourceRows: Int
    /// Source columns read, in SELECT order.
    let sourceColumns: [String]
    /// The primary key (source order; every key column is copied).
    let key: [String]
    /// Where the key columns are in `sourceColumns`.
    let keyIndexes: [Int]
    /// Target columns written, in COPY order.
    let columns: [Column]
    /// SQLite's AUTOINCREMENT high-water mark, if any.
    let sourceSequence: Int64?
    /// Target columns left to their default (present only in the target).
    public let defaulted: [String]

    /// Matches `source`'s columns to `target`'s by name.
    init(source: SourceTable, target: [TargetColumn]) throws {
        table = source.name
        sourceRows = source.rows
        var select: [String] = []
        func index(_ name: String) -> Int {
            if let i = select.firstIndex(of: name) { return i }
            select.append(name)
            return select.count - 1
        }
        var columns: [Column] = []
        var defaulted: [String] = []
        let targetNames = Set(target.map(\.name))
        let split = Self.splits[source.name].flatMap { s in
            targetNames.contains(s.value) || !source.columns.contains(s.value) ? nil : s
        }
        for missing in source.columns where !targetNames.contains(missing) && missing != split?.value {
            throw StoreMigrationError(
                .schema,
                "table \(source.name): the target has no column \(missing) (its values would be lost)")
        }
        for t in target where !t.generated {
            if let split, let codes = split.columns[t.name] {
                columns.append(
                    Column(
                        name: t.name, family: t.family, sourceColumn: index(split.value), shardOf: nil,
                        split: (index(split.type), codes)))
            } else if let fixed = Self.fixedValues[source.name]?[t.name] {
                columns.append(
                    Column(name: t.name, family: t.family, sourceColumn: nil, shardOf: nil, fixed: fixed))
            } else if source.columns.contains(t.name) {
                columns.append(
                    Column(name: t.name, family: t.family, sourceColumn: index(t.name), shardOf: nil))
            } else if t.name == "shard", source.columns.contains("user") {
                columns.append(
                    Column(name: t.name, family: t.family, sourceColumn: nil, shardOf: index("user")))
            } else if t.hasDefault || t.nullable {
                defaulted.append(t.name)
            } else {
                throw StoreMigrationError(
                    .schema,
                    "table \(source.name): target column \(t.name) is NOT NULL without a default and the source has no such column"
                )
            }
        }
        key = source.key.isEmpty ? source.columns : source.key
        keyIndexes = key.map(index)
        sourceColumns = select
        self.columns = columns
        self.defaulted = defaulted
        sourceSequence = source.sequence
    }

    /// `SELECT … ORDER BY key LIMIT ?`, after a key when `after`.
    func selectSQL(after: Bool) -> String {
        let cols = sourceColumns.map(quoted).joined(separator: ", ")
        let keys = key.map(quoted).joined(separator: ", ")
        let marks = key.map { _ in "?" }.joined(separator: ", ")
        let condition = after ? (key.count == 1 ? " WHERE \(keys) > ?" : " WHERE (\(keys)) > (\(marks))") : ""
        return "SELECT \(cols) FROM \(quoted(table))\(condition) ORDER BY \(keys) LIMIT ?"
    }

    /// The canonical text of target column `c` for source `row` (nil for NULL): the COPY text, or with
    /// `forChecksum` the text the checksum covers (they differ only for arrays, checksummed as JSON). Throws naming
    /// the table, column and row when the value does not fit the column's type.
    func value(_ c: Column, _ row: Row, forChecksum: Bool = false) throws -> String? {
        if let s = c.shardOf {
            guard let user = String.fromDatabaseValue(row[s]) else { return nil }
            return String(Shards.of(user))
        }
        if let fixed = c.fixed { return fixed }
        guard let i = c.sourceColumn else { return nil }
        func bad(_ why: String) -> StoreMigrationError {
            let at = zip(key, keyIndexes).map { "\($0.0)=\(row[$0.1] as DatabaseValue)" }.joined(
                separator: ", ")
            return StoreMigrationError(.value, "table \(table), column \(c.name), row (\(at)): \(why)")
        }
        if let split = c.split {
            guard let code = Int64.fromDatabaseValue(row[split.typeColumn]) else { throw bad("no type code") }
            if !split.codes.contains(code) { return nil }
        }
        let v: DatabaseValue = row[i]
        if c.family == .textArray, case .string(let json) = v.storage {
            guard let items = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String] else {
                throw bad("not a JSON array of strings: \(json.prefix(80))")
            }
            if forChecksum { return json }
            let quotedItems = items.map {
                "\""
                    + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
                        of: "\"", with: "\\\"") + "\""
            }
            return try text("{" + quotedItems.joined(separator: ",") + "}", bad)
        }
        switch (v.storage, c.family) {
        case (.null, _): return nil
        case (.int64(let n), .integer): return String(n)
        case (.double(let d), .integer):
            guard let n = Int64(exactly: d) else { throw bad("\(d) is not an integer") }
            return String(n)
        case (.string(let s), .integer):
            guard let n = Int64(s) else { throw bad("'\(s)' is not an integer") }
            return String(n)
        case (.int64(let n), .float): return ValueFamily.format(Double(n))
        case (.double(let d), .float): return ValueFamily.format(d)
        case (.string(let s), .float):
            guard let d = Double(s) else { throw bad("'\(s)' is not a number") }
            return ValueFamily.format(d)
        case (.int64(let n), .boolean): return n != 0 ? "t" : "f"
        case (.double(let d), .boolean): return d != 0 ? "t" : "f"
        case (.string(let s), .boolean):
            switch s.lowercased() {
            case "1", "t", "true": return "t"
            case "0", "f", "false": return "f"
            default: throw bad("'\(s)' is not a boolean")
            }
        case (.blob(let data), .bytes): return "\\x" + data.map { String(format: "%02x", $0) }.joined()
        case (.blob(let data), _):
            guard let s = String(data: data, encoding: .utf8) else {
                throw bad("a blob that is not UTF-8 text")
            }
            return try text(s, bad)
        case (.int64(let n), _): return String(n)
        case (.double(let d), _): return ValueFamily.format(d)
        case (.string(let s), .json):
            guard ValueFamily.canonicalJSON(s) != nil else { throw bad("not JSON: \(s.prefix(80))") }
            return try text(s, bad)
        case (.string(let s), _): return try text(s, bad)
        }
    }

    /// `s`, refused when PostgreSQL text cannot hold it (a NUL character).
    private func text(_ s: String, _ bad: (String) -> StoreMigrationError) throws -> String {
        if s.utf8.contains(0) { throw bad("text with a NUL character, which PostgreSQL cannot store") }
        return s
    }
}

/// A SHA-256 over rows of canonical values: each value is a NULL marker or its length and UTF-8 bytes (JSON
/// values re-canonicalised), each row ends with a separator.
struct RowDigest {
    private var hash = SHA256()
    private var families: [ValueFamily]
    private var column = 0
    /// Rows added so far.
    var rows = 0
    /// Bytes not yet hashed.
    var pending: [UInt8] = []

    init(columns: [ValueFamily]) { families = columns }

    /// Adds the next value of the current row.
    mutating func add(_ value: String?) {
        defer { column += 1 }
        guard var v = value else {
            pending.append(0)
            return
        }
        if families[column] == .json || families[column] == .textArray {
            v = ValueFamily.canonicalJSON(v) ?? v
        }
        pending.append(1)
        withUnsafeBytes(of: UInt32(v.utf8.count).bigEndian) { pending.append(contentsOf: $0) }
        pending.append(contentsOf: v.utf8)
    }

    /// Ends the current row.
    mutating func endRow() {
        pending.append(0x1E)
        column = 0
        rows += 1
    }

    /// Returns and clears the bytes not yet hashed.
    mutating func take() -> [UInt8] {
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }

    /// Hashes `bytes` (from another digest's `pending`) and counts its `rows`.
    mutating func absorb(rows: Int, bytes: [UInt8]) {
        hash.update(data: bytes)
        self.rows += rows
    }

    /// The hex digest.
    mutating func finish() -> String {
        hash.update(data: take())
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// `name` as a quoted SQL identifier (both dialects).
func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
