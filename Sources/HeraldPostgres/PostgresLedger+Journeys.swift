import HeraldCore
import HeraldLedger
import PostgresNIO

extension PostgresLedger: JourneyStore {
    static let instanceColumns =
        #"journey, id, "user", version, status, step, reached_at, due_at, message_key, entered_at, moves"#

    static func instance(_ row: PostgresRow) throws -> JourneyInstance {
        let (journey, id, user, version, status, step, reached, due, key, entered, moves) = try row.decode(
            (String, String, String, String, String, String, Int64, Int64?, String?, Int64, Int32).self)
        return JourneyInstance(
            journey: journey, id: id, user: user, version: version, status: JourneyInstanceStatus(stored: status),
            step: step, reachedAt: reached, dueAt: due, messageKey: key, enteredAt: entered, moves: Int(moves))
    }

    static func record(_ row: PostgresRow) throws -> JourneyStepRecord {
        let (journey, instance, user, step, at, outcome, next) = try row.decode(
            (String, String, String, String, Int64, String, String).self)
        return JourneyStepRecord(
            journey: journey, instance: instance, user: user, step: step, at: at, outcome: outcome, next: next)
    }

    public func saveJourneyVersion(journey: String, version: String, file: String, source: String) async throws {
        try await write("save journey version") { conn in
            _ = try await self.rows(
                """
                INSERT INTO journey_versions(journey, version, file, source)
                VALUES (\(journey), \(version), \(file), \(source)) ON CONFLICT DO NOTHING
                """, conn)
        }
    }

    public func journeyVersion(journey: String, version: String) async throws -> (file: String, source: String)? {
        try await read("read journey version") { conn in
            try await self.rows(
                "SELECT file, source FROM journey_versions WHERE journey = \(journey) AND version = \(version)", conn
            ).first.map { try $0.decode((String, String).self) }
        }
    }

    public func enterJourney(_ i: JourneyInstance, reEntryAfter: Int64?) async throws -> Bool {
        try await enterJourneys([(i, reEntryAfter)])[0]
    }

    /// Every entry in one transaction. One user's entries are serialised by a transaction-scoped advisory
    /// lock, so "one active instance" holds across daemons without a partial unique index that re-entry rules
    /// could not express; the locks are taken in one order, so two batches never wait on each other in a cycle.
    public func enterJourneys(_ entries: [(instance: JourneyInstance, reEntryAfter: Int64?)]) async throws -> [Bool] {
        guard !entries.isEmpty else { return [] }
        let lockKeys = Set(entries.map { $0.instance.journey + "\u{1F}" + $0.instance.user }).sorted()
        return try await write("enter journeys") { conn in
            for key in lockKeys {
                _ = try await self.rows("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))", conn)
            }
            var started: [Bool] = []
            for (i, reEntryAfter) in entries {
                started.append(try await self.enter(i, reEntryAfter: reEntryAfter, conn))
            }
            return started
        }
    }

    /// One entry inside the caller's transaction (which holds the user's advisory lock).
    private func enter(_ i: JourneyInstance, reEntryAfter: Int64?, _ conn: PostgresConnection) async throws -> Bool {
        let previous = try await rows(
            """
            SELECT id, status, entered_at FROM journey_instances
            WHERE journey = \(i.journey) AND "user" = \(i.user)
            """, conn
        ).map { try $0.decode((String, String, Int64).self) }
        for (id, status, entered) in previous {
            if id == i.id || status == "active" { return false }
            guard let after = reEntryAfter, i.enteredAt - entered >= after else { return false }
        }
        _ = try await rows(
            """
            INSERT INTO journey_instances(journey, id, "user", version, status, step, reached_at, due_at,
              message_key, entered_at, moves, shard)
            VALUES (\(i.journey), \(i.id), \(i.user), \(i.version), \(i.status.rawValue), \(i.step), \(i.reachedAt),
              \(i.dueAt), \(i.messageKey), \(i.enteredAt), \(Int32(i.moves)), \(Int16(Shards.of(i.user))))
            """, conn)
        return true
    }

    public func claimDueInstances(now: Int64, limit: Int, shards: [Int]?, lease: Int64) async throws
        -> [JourneyInstance]
    {
        if let shards, shards.isEmpty { return [] }
        let shardList = shards.map { $0.map(Int16.init) } ?? []
        let allShards = shards == nil
        return try await write("claim due journey instances") { conn in
            try await self.rows(
                """
                WITH due AS (
                  SELECT journey, "user", id FROM journey_instances
                  WHERE status = 'active' AND due_at <= \(now)
                    AND (\(allShards) OR shard = ANY(\(shardList)::smallint[]))
                  ORDER BY due_at LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED)
                UPDATE journey_instances j SET due_at = \(now + lease)
                FROM due WHERE j.journey = due.journey AND j."user" = due."user" AND j.id = due.id
                RETURNING j.journey, j.id, j."user", j.version, j.status, j.step, j.reached_at,
                  \(now)::bigint, j.message_key, j.entered_at, j.moves
                """, conn
            ).map(Self.instance).sorted { ($0.dueAt ?? 0, $0.user) < ($1.dueAt ?? 0, $1.user) }
        }
    }

    public func moveInstance(_ i: JourneyInstance, expectedMoves: Int, records: [JourneyStepRecord]) async throws
        -> Bool
    {
        try await moveInstances([JourneyMove(instance: i, expectedMoves: expectedMoves, records: records)])[0]
    }

    /// Every move in one transaction, rows locked in key order (two daemons' batches cannot deadlock on each
    /// other; a conflict that still happens reruns the whole transaction).
    public func moveInstances(_ moves: [JourneyMove]) async throws -> [Bool] {
        guard !moves.isEmpty else { return [] }
        let order = moves.indices.sorted {
            let a = moves[$0].instance, b = moves[$1].instance
            return (a.journey, a.user, a.id) < (b.journey, b.user, b.id)
        }
        return try await write("move journey instances") { conn in
            var written = Array(repeating: false, count: moves.count)
            var records: [JourneyStepRecord] = []
            for k in order {
                let (i, expected) = (moves[k].instance, moves[k].expectedMoves)
                let moved = try await self.rows(
                    """
                    UPDATE journey_instances SET status = \(i.status.rawValue), step = \(i.step),
                      reached_at = \(i.reachedAt), due_at = \(i.dueAt), message_key = \(i.messageKey), moves = moves + 1
                    WHERE journey = \(i.journey) AND "user" = \(i.user) AND id = \(i.id) AND moves = \(Int32(expected))
                    RETURNING 1
                    """, conn)
                guard !moved.isEmpty else { continue }
                written[k] = true
                records += moves[k].records
            }
            if !records.isEmpty {
                _ = try await self.rows(
                    """
                    INSERT INTO journey_steps(journey, instance, "user", step, at, outcome, next)
                    SELECT journey, instance, u, step, at, outcome, next FROM unnest(
                      \(records.map(\.journey))::text[], \(records.map(\.instance))::text[],
                      \(records.map(\.user))::text[], \(records.map(\.step))::text[], \(records.map(\.at))::bigint[],
                      \(records.map(\.outcome))::text[], \(records.map(\.next))::text[]) WITH ORDINALITY
                      AS t(journey, instance, u, step, at, outcome, next, ord)
                    ORDER BY ord
                    """, conn)
            }
            return written
        }
    }

    public func activeInstances(user: String) async throws -> [JourneyInstance] {
        try await read("read active journey instances", ifMissing: []) { conn in
            try await self.rows(
                """
                SELECT \(unescaped: Self.instanceColumns) FROM journey_instances
                WHERE "user" = \(user) AND status = 'active' ORDER BY journey, id
                """, conn
            ).map(Self.instance)
        }
    }

    public func journeyInstances(journey: String, user: String) async throws -> [JourneyInstance] {
        try await read("read journey instances", ifMissing: []) { conn in
            try await self.rows(
                """
                SELECT \(unescaped: Self.instanceColumns) FROM journey_instances
                WHERE journey = \(journey) AND "user" = \(user) ORDER BY entered_at DESC, id COLLATE "C" DESC
                """, conn
            ).map(Self.instance)
        }
    }

    public func journeyInstances(journey: String) async throws -> [JourneyInstance] {
        try await read("read journey instances", ifMissing: []) { conn in
            try await self.rows(
                """
                SELECT \(unescaped: Self.instanceColumns) FROM journey_instances
                WHERE journey = \(journey) ORDER BY entered_at, "user" COLLATE "C", id COLLATE "C"
                """, conn
            ).map(Self.instance)
        }
    }

    public func journeyRecords(journey: String, instance: String) async throws -> [JourneyStepRecord] {
        try await read("read journey steps", ifMissing: []) { conn in
            try await self.rows(
                """
                SELECT journey, instance, "user", step, at, outcome, next FROM journey_steps
                WHERE journey = \(journey) AND instance = \(instance) ORDER BY id
                """, conn
            ).map(Self.record)
        }
    }

    public func journeyRecords(journey: String) async throws -> [JourneyStepRecord] {
        try await read("read journey steps", ifMissing: []) { conn in
            try await self.rows(
                """
                SELECT journey, instance, "user", step, at, outcome, next FROM journey_steps
                WHERE journey = \(journey) ORDER BY id
                """, conn
            ).map(Self.record)
        }
    }

    public func journeyStatusCounts(journey: String) async throws -> [String: Int] {
        try await read("count journey instances", ifMissing: [:]) { conn in
            var out: [String: Int] = [:]
            for row in try await self.rows(
                "SELECT status, count(*) FROM journey_instances WHERE journey = \(journey) GROUP BY status", conn)
            {
                let (status, n) = try row.decode((String, Int64).self)
                out[status] = Int(n)
            }
            return out
        }
    }
}
