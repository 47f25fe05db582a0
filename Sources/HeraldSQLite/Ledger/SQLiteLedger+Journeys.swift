import GRDB
import HeraldCore
import HeraldLedger

extension SQLiteLedger {
    /// The journey tables (docs/journeys.md, "Storage"): kept versions, instances (found by a partial index on
    /// the due time of active ones, so waiting instances cost nothing per tick) and step records.
    static func registerJourneys(_ m: inout DatabaseMigrator) {
        m.registerMigration("journeys-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE journey_versions (
                      journey TEXT NOT NULL, version TEXT NOT NULL, file TEXT NOT NULL, source TEXT NOT NULL,
                      PRIMARY KEY (journey, version));
                    CREATE TABLE journey_instances (
                      journey TEXT NOT NULL, id TEXT NOT NULL, user TEXT NOT NULL, version TEXT NOT NULL,
                      status TEXT NOT NULL, step TEXT NOT NULL, reached_at INTEGER NOT NULL, due_at INTEGER,
                      message_key TEXT, entered_at INTEGER NOT NULL, moves INTEGER NOT NULL DEFAULT 0,
                      shard INTEGER NOT NULL,
                      PRIMARY KEY (journey, user, id));
                    CREATE INDEX journey_due ON journey_instances(due_at) WHERE status = 'active';
                    CREATE INDEX journey_user ON journey_instances(user, status);
                    CREATE TABLE journey_steps (
                      id INTEGER PRIMARY KEY, journey TEXT NOT NULL, instance TEXT NOT NULL, user TEXT NOT NULL,
                      step TEXT NOT NULL, at INTEGER NOT NULL, outcome TEXT NOT NULL, next TEXT NOT NULL);
                    CREATE INDEX journey_steps_instance ON journey_steps(journey, user, instance);
                    """)
        }
    }

    static let instanceColumns =
        "journey, id, user, version, status, step, reached_at, due_at, message_key, entered_at, moves"

    static func instance(_ r: Row) -> JourneyInstance {
        JourneyInstance(
            journey: r[0], id: r[1], user: r[2], version: r[3], status: JourneyInstanceStatus(stored: r[4]),
            step: r[5], reachedAt: r[6], dueAt: r[7], messageKey: r[8], enteredAt: r[9], moves: r[10])
    }

    static func record(_ r: Row) -> JourneyStepRecord {
        JourneyStepRecord(journey: r[0], instance: r[1], user: r[2], step: r[3], at: r[4], outcome: r[5], next: r[6])
    }
}

extension SQLiteLedger: JourneyStore {
    public func saveJourneyVersion(journey: String, version: String, file: String, source: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO journey_versions(journey, version, file, source) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [journey, version, file, source])
        }
    }

    public func journeyVersion(journey: String, version: String) async throws -> (file: String, source: String)? {
        try await pool.read { db in
            guard try db.tableExists("journey_versions") else { return nil }
            return try Row.fetchOne(
                db, sql: "SELECT file, source FROM journey_versions WHERE journey = ? AND version = ?",
                arguments: [journey, version]
            ).map { ($0[0], $0[1]) }
        }
    }

    public func enterJourney(_ i: JourneyInstance, reEntryAfter: Int64?) async throws -> Bool {
        try await enterJourneys([(i, reEntryAfter)])[0]
    }

    /// Every entry in one transaction.
    public func enterJourneys(_ entries: [(instance: JourneyInstance, reEntryAfter: Int64?)]) async throws -> [Bool] {
        guard !entries.isEmpty else { return [] }
        return try await pool.write { db in
            let previous = try db.cachedStatement(
                sql: "SELECT id, status, entered_at FROM journey_instances WHERE journey = ? AND user = ?")
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO journey_instances(\(Self.instanceColumns), shard)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            return try entries.map { (i, reEntryAfter) in
                for p in try Row.fetchAll(previous, arguments: [i.journey, i.user]) {
                    if (p[0] as String) == i.id || (p[1] as String) == "active" { return false }
                    guard let after = reEntryAfter, i.enteredAt - (p[2] as Int64) >= after else { return false }
                }
                try insert.execute(arguments: [
                    i.journey, i.id, i.user, i.version, i.status.rawValue, i.step, i.reachedAt, i.dueAt, i.messageKey,
                    i.enteredAt, i.moves, Shards.of(i.user),
                ])
                return true
            }
        }
    }

    public func claimDueInstances(now: Int64, limit: Int, shards: [Int]?, lease: Int64) async throws
        -> [JourneyInstance]
    {
        // One daemon per SQLite store: it holds every shard.
        try await pool.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.instanceColumns) FROM journey_instances
                    WHERE status = 'active' AND due_at <= ? ORDER BY due_at LIMIT ?
                    """, arguments: [now, limit])
            let update = try db.cachedStatement(
                sql: "UPDATE journey_instances SET due_at = ? WHERE journey = ? AND user = ? AND id = ?")
            return try rows.map { r in
                let i = Self.instance(r)
                try update.execute(arguments: [now + lease, i.journey, i.user, i.id])
                return i
            }
        }
    }

    public func moveInstance(_ i: JourneyInstance, expectedMoves: Int, records: [JourneyStepRecord]) async throws
        -> Bool
    {
        try await moveInstances([JourneyMove(instance: i, expectedMoves: expectedMoves, records: records)])[0]
    }

    /// Every move in one transaction: a round of the runner is one commit, not one per instance.
    public func moveInstances(_ moves: [JourneyMove]) async throws -> [Bool] {
        guard !moves.isEmpty else { return [] }
        return try await pool.write { db in
            let update = try db.cachedStatement(
                sql: """
                    UPDATE journey_instances SET status = ?, step = ?, reached_at = ?, due_at = ?, message_key = ?,
                      moves = moves + 1
                    WHERE journey = ? AND user = ? AND id = ? AND moves = ?
                    """)
            let insert = try db.cachedStatement(
                sql: "INSERT INTO journey_steps(journey, instance, user, step, at, outcome, next) VALUES (?, ?, ?, ?, ?, ?, ?)")
            return try moves.map { m in
                let i = m.instance
                try update.execute(arguments: [
                    i.status.rawValue, i.step, i.reachedAt, i.dueAt, i.messageKey, i.journey, i.user, i.id,
                    m.expectedMoves,
                ])
                guard db.changesCount == 1 else { return false }
                for r in m.records {
                    try insert.execute(arguments: [r.journey, r.instance, r.user, r.step, r.at, r.outcome, r.next])
                }
                return true
            }
        }
    }

    public func activeInstances(user: String) async throws -> [JourneyInstance] {
        try await pool.read { db in
            guard try db.tableExists("journey_instances") else { return [] }
            return try Row.fetchAll(
                db, sql: "SELECT \(Self.instanceColumns) FROM journey_instances WHERE user = ? AND status = 'active'",
                arguments: [user]
            ).map(Self.instance)
        }
    }

    public func journeyInstances(journey: String, user: String) async throws -> [JourneyInstance] {
        try await pool.read { db in
            guard try db.tableExists("journey_instances") else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.instanceColumns) FROM journey_instances WHERE journey = ? AND user = ?
                    ORDER BY entered_at DESC, id DESC
                    """, arguments: [journey, user]
            ).map(Self.instance)
        }
    }

    public func journeyInstances(journey: String) async throws -> [JourneyInstance] {
        try await pool.read { db in
            guard try db.tableExists("journey_instances") else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.instanceColumns) FROM journey_instances WHERE journey = ?
                    ORDER BY entered_at, user, id
                    """, arguments: [journey]
            ).map(Self.instance)
        }
    }

    public func journeyRecords(journey: String, instance: String) async throws -> [JourneyStepRecord] {
        try await pool.read { db in
            guard try db.tableExists("journey_instances") else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT journey, instance, user, step, at, outcome, next FROM journey_steps
                    WHERE journey = ? AND instance = ? ORDER BY id
                    """, arguments: [journey, instance]
            ).map(Self.record)
        }
    }

    public func journeyRecords(journey: String) async throws -> [JourneyStepRecord] {
        try await pool.read { db in
            guard try db.tableExists("journey_steps") else { return [] }
            return try Row.fetchAll(
                db,
                sql: "SELECT journey, instance, user, step, at, outcome, next FROM journey_steps WHERE journey = ? ORDER BY id",
                arguments: [journey]
            ).map(Self.record)
        }
    }

    public func journeyStatusCounts(journey: String) async throws -> [String: Int] {
        try await pool.read { db in
            guard try db.tableExists("journey_instances") else { return [:] }
            var out: [String: Int] = [:]
            for r in try Row.fetchAll(
                db, sql: "SELECT status, count(*) FROM journey_instances WHERE journey = ? GROUP BY status",
                arguments: [journey])
            {
                out[r[0]] = r[1]
            }
            return out
        }
    }
}
