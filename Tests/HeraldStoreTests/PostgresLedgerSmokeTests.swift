import Foundation
import HeraldCore
import PostgresNIO
import Testing

import class HeraldPostgres.PostgresDatabase

@testable import HeraldPostgres
@testable import HeraldLedger
@testable import HeraldSQLite

/// `PostgresLedger` against a real server. Each test gets a fresh database (`CREATE DATABASE t_<uuid>` through
/// the URL in `HERALD_TEST_POSTGRES_URL`), migrated, and dropped afterwards. Without that variable the suite is
/// disabled: it needs a running PostgreSQL (`scripts/postgres.sh start DIR PORT` starts a throwaway one), and
/// the shared store suite runs against both backends where one is available.
@Suite(
    "PostgresLedger smoke",
    .enabled(
        if: ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_URL"] != nil,
        "set HERALD_TEST_POSTGRES_URL=postgres://user@host:port/db to run against PostgreSQL"))
struct PostgresLedgerSmokeTests {
    static let t0: Int64 = 1_795_000_000

    /// The audience tables `funnels` joins, as the audience store names them (until its migrations land here).
    static let audienceStandIn = """
        DO $m$ BEGIN
        CREATE TABLE IF NOT EXISTS users (pk bigserial PRIMARY KEY, id text NOT NULL UNIQUE);
        CREATE TABLE IF NOT EXISTS event_names (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE);
        CREATE TABLE IF NOT EXISTS events (
          id bigserial PRIMARY KEY, user_pk bigint NOT NULL, name_id bigint NOT NULL, ts bigint NOT NULL);
        END $m$
        """

    /// Runs `body` with a ledger over a fresh, migrated database, dropped afterwards.
    static func withLedger(
        migrate: Bool = true, _ body: (PostgresLedger, PostgresDatabase) async throws -> Void
    ) async throws {
        let url = try #require(ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_URL"])
        let admin = try PostgresDatabase(url: url, maxConnections: 1)
        defer { admin.close() }
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin.connection { conn in
            _ = try await conn.query("CREATE DATABASE \(unescaped: name)", logger: admin.logger)
        }
        var components = try #require(URLComponents(string: url))
        components.path = "/" + name
        let database = try PostgresDatabase(url: try #require(components.string), maxConnections: 12)
        do {
            if migrate {
                try await database.migrate([("test-audience", audienceStandIn)] + PostgresLedger.migrations)
            }
            try await body(PostgresLedger(database: database), database)
        } catch {
            database.close()
            do { try await drop(name, admin) } catch {
                Issue.record("could not drop test database \(name): \(error)")
            }
            throw error
        }
        database.close()
        try await drop(name, admin)
    }

    /// Drops database `name`, ending its connections.
    static func drop(_ name: String, _ admin: PostgresDatabase) async throws {
        // The closed pool's sessions may still be ending: try again for a few seconds.
        for attempt in 1...10 {
            do {
                try await admin.connection { conn in
                    _ = try await conn.query(
                        "DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)", logger: admin.logger)
                }
                return
            } catch  where attempt < 10 {
                try await Task.sleep(for: .milliseconds(300))
            }
        }
    }

    /// A due row of `user`.
    static func row(
        _ key: String, user: String, status: LedgerStatus = .scheduled, channel: ChannelKind = .email,
        at: Int64 = t0, campaign: String = "promo"
    ) -> LedgerEntry {
        var e = LedgerEntry(
            idempotencyKey: key, campaign: campaign, user: user, status: status, channel: channel,
            scheduledAt: at,
            createdAt: at - 60, topic: "promotions")
        e.address = "\(user)@example.com"
        e.occurrence = "o1"
        e.triggerAt = at - 60
        e.windowEnd = at + 3600
        return e
    }

    /// `e` without its id (ids differ between backends).
    static func plain(_ e: LedgerEntry?) -> LedgerEntry? {
        guard var e else { return nil }
        e.id = nil
        return e
    }

    // MARK: Parity with SQLite

    /// Runs the same calls on both ledgers and compares rows, histories and reads after each step.
    @Test func recordUpdateClaimCompleteMatchSQLite() async throws {
        let dir = try TempDir()
        let store = try makeStore(dir)
        let sqlite = try SQLiteLedger(pool: store.pool)
        try await Self.withLedger { pg, _ in
            let ledgers: [any DispatchLedger] = [sqlite, pg]
            var batch = [
                Self.row("promo/o1/u1/1", user: "u1"),
                Self.row("promo/o1/u2/1", user: "u2", channel: .sms, at: Self.t0 + 5),
                Self.row("promo/o1/u3/1", user: "u3", status: .suppressed),
                Self.row("promo/o1/u4/1", user: "u4", at: Self.t0 + 10_000),
            ]
            batch[2].reason = "opted_out:topic"
            var duplicate = batch[0]
            duplicate.status = .holdout
            var keys = batch.map(\.idempotencyKey)
            for l in ledgers {
                #expect(try await l.record(batch + [duplicate]) == 4)
                #expect(try await l.record([duplicate]) == 0)
            }
            func same(_ step: String) async throws {
                for key in keys {
                    let a = Self.plain(try await sqlite.entry(key: key))
                    let b = Self.plain(try await pg.entry(key: key))
                    #expect(a == b, "\(step): \(key)")
                    #expect(
                        try await sqlite.history(key: key) == pg.history(key: key),
                        "\(step): history of \(key)")
                }
                #expect(try await sqlite.sendHistory(since: 0) == pg.sendHistory(since: 0), "\(step)")
                let (p1, d1) = try await sqlite.queueDepth(now: Self.t0 + 1)
                let (p2, d2) = try await pg.queueDepth(now: Self.t0 + 1)
                #expect(p1 == p2 && d1 == d2, "\(step)")
                #expect(
                    try await sqlite.sentHistory(
                        users: ["u1", "u2", "u4"], since: 0, excluding: ["promo/o1/u4/1"])
                        == pg.sentHistory(users: ["u1", "u2", "u4"], since: 0, excluding: ["promo/o1/u4/1"]),
                    "\(step)")
                #expect(
                    try await sqlite.entries(campaign: "promo", user: nil, limit: 10).map(Self.plain)
                        == pg.entries(campaign: "promo", user: nil, limit: 10).map(Self.plain), "\(step)")
            }
            try await same("recorded")

            for l in ledgers {
                let claimed = try await l.claimDue(
                    now: Self.t0 + 5, limit: 10, owner: "d1", lease: 60, perChannel: [.sms: 5], shards: nil)
                #expect(Set(claimed.map(\.idempotencyKey)) == ["promo/o1/u1/1", "promo/o1/u2/1"])
                #expect(claimed.allSatisfy { $0.status == .sending && $0.attempts == 1 })
            }
            try await same("claimed")

            for l in ledgers {
                let outcomes = [
                    DispatchOutcome(key: "promo/o1/u1/1", status: .sent, providerMessageID: "<m1@x>"),
                    DispatchOutcome(
                        key: "promo/o1/u2/1", status: .scheduled, reason: "circuit open",
                        retryAt: Self.t0 + 30),
                ]
                #expect(try await l.complete(outcomes, owner: "intruder", at: Self.t0 + 6) == 0)
                #expect(try await l.complete(outcomes, owner: "d1", at: Self.t0 + 6) == 2)
            }
            try await same("completed")

            for l in ledgers {
                #expect(
                    try await l.recordDelivery(
                        key: "promo/o1/u1/1", outcome: .delivered, error: nil, at: Self.t0 + 9))
                #expect(
                    try await !l.recordDelivery(
                        key: "promo/o1/u1/1", outcome: .failed, error: "late", at: Self.t0 + 10))
                #expect(try await l.markClicked(key: "promo/o1/u1/1", at: Self.t0 + 20))
                #expect(try await !l.markOpened(key: "promo/o1/u1/1", at: Self.t0 + 21))
                #expect(try await l.key(providerMessageID: "<m1@x>") == "promo/o1/u1/1")
                #expect(
                    try await l.updateStatus(
                        key: "promo/o1/u4/1", to: .cancelled, reason: "event:purchase", error: nil,
                        providerMessageID: nil, at: Self.t0 + 30))
                #expect(
                    try await !l.updateStatus(
                        key: "nope", to: .sent, reason: nil, error: nil, providerMessageID: nil, at: 0))
            }
            try await same("tracked")

            // Leases that expire are reclaimed by another owner (u2 was handed back until t0 + 30); a failure is
            // retried later.
            keys.append("promo/o1/u5/1")
            for l in ledgers {
                #expect(try await l.record([Self.row("promo/o1/u5/1", user: "u5", at: Self.t0 + 40)]) == 1)
                #expect(try await l.claimDue(now: Self.t0 + 40, limit: 10, owner: "d1", lease: 10).count == 2)
                let again = try await l.claimDue(now: Self.t0 + 51, limit: 10, owner: "d2", lease: 10)
                #expect(Set(again.map(\.idempotencyKey)) == ["promo/o1/u2/1", "promo/o1/u5/1"])
                let failed = DispatchOutcome(
                    key: "promo/o1/u5/1", status: .failed, error: "421 try later", retryAt: Self.t0 + 300)
                #expect(try await l.complete([failed], owner: "d2", at: Self.t0 + 52) == 1)
            }
            try await same("reclaimed")
            for status in [LedgerStatus.failed, .sent, .cancelled] {
                #expect(
                    try await sqlite.entries(campaign: nil, user: nil, status: status, limit: 10).map(
                        Self.plain)
                        == pg.entries(campaign: nil, user: nil, status: status, limit: 10).map(Self.plain))
            }
            for filter in [LedgerFilter(), LedgerFilter(campaign: "promo", since: Self.t0 + 6)] {
                #expect(
                    try await sqlite.window(filter, limit: 3).items.map(Self.plain)
                        == pg.window(filter, limit: 3).items.map(Self.plain))
            }
            #expect(try await sqlite.campaigns() == pg.campaigns())
            #expect(
                try await sqlite.funnels(campaign: nil, goals: [:]) == pg.funnels(campaign: nil, goals: [:]))
        }
    }

    // MARK: Claiming

    /// Two daemons claiming at once get disjoint rows that together are all the due rows.
    @Test func concurrentClaimersGetDisjointRows() async throws {
        try await Self.withLedger { ledger, _ in
            let rows = (0..<5000).map {
                Self.row("promo/o1/u\($0)/1", user: "u\($0)", at: Self.t0 - Int64($0 % 50))
            }
            #expect(try await ledger.record(rows) == 5000)
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for owner in ["a", "b"] {
                    group.addTask {
                        var mine: [String] = []
                        while true {
                            let got = try await ledger.claimDue(
                                now: Self.t0, limit: 97, owner: owner, lease: 300, perChannel: [:],
                                shards: nil)
                            if got.isEmpty { break }
                            #expect(got.allSatisfy { $0.status == .sending && $0.attempts == 1 })
                            mine += got.map(\.idempotencyKey)
                        }
                        return mine
                    }
                }
                var all: [[String]] = []
                for try await part in group { all.append(part) }
                return all
            }
            let a = Set(claimed[0])
            let b = Set(claimed[1])
            #expect(a.count == claimed[0].count && b.count == claimed[1].count)
            #expect(a.isDisjoint(with: b))
            #expect(a.union(b) == Set(rows.map(\.idempotencyKey)))
            #expect(!a.isEmpty && !b.isEmpty)
            let (pending, due) = try await ledger.queueDepth(now: Self.t0)
            #expect(pending == 5000 && due == 5000)
        }
    }

    /// A claimer passes over rows another transaction holds instead of waiting for it. Checked without a clock:
    /// the claimer's connections have a `lock_timeout`, so a claim that waited for a held row lock would fail
    /// with "canceling statement due to lock timeout" instead of returning.
    @Test func claimsDoNotWaitForLockedRows() async throws {
        try await Self.withLedger { ledger, database in
            _ = try await ledger.record(
                (0..<10).map { Self.row("promo/o1/u\($0)/1", user: "u\($0)", at: Self.t0 - Int64($0)) })
            // A second pool on the same database whose sessions give up on a row lock after 100 ms (a database
            // default, so every connection the pool opens from now on has it).
            let name = try #require(
                try await database.connection { conn in
                    try await conn.query("SELECT current_database()", logger: database.logger)
                        .collect().map { try $0.decode(String.self) }.first
                })
            try await database.connection { conn in
                _ = try await conn.query(
                    "ALTER DATABASE \(unescaped: name) SET lock_timeout = '100ms'", logger: database.logger)
            }
            let url = try #require(ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_URL"])
            var components = try #require(URLComponents(string: url))
            components.path = "/" + name
            let impatientDatabase = try PostgresDatabase(url: try #require(components.string), maxConnections: 1)
            defer { impatientDatabase.close() }
            let timeout = try await impatientDatabase.connection { conn in
                try await conn.query("SHOW lock_timeout", logger: database.logger)
                    .collect().map { try $0.decode(String.self) }.first
            }
            #expect(timeout == "100ms")
            let impatient = PostgresLedger(database: impatientDatabase)

            let (locked, lockedNext) = AsyncStream<[Int64]>.makeStream()
            let (release, releaseNext) = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await database.transaction { conn in
                    let ids = try await conn.query(
                        "SELECT id FROM ledger ORDER BY scheduled_at LIMIT 4 FOR UPDATE",
                        logger: database.logger
                    ).collect().map { try $0.decode(Int64.self) }
                    lockedNext.yield(ids)
                    for await _ in release { break }
                }
            }
            var held: [Int64] = []
            for await ids in locked {
                held = ids
                break
            }
            #expect(held.count == 4)
            // The timeout is in force: waiting for a held row fails on the impatient pool.
            let waited = await #expect(throws: (any Error).self) {
                try await impatientDatabase.transaction { conn in
                    _ = try await conn.query(
                        "SELECT id FROM ledger WHERE id = \(held[0]) FOR UPDATE", logger: database.logger
                    ).collect()
                }
            }
            let state = ((waited as? PostgresTransactionError)?.closureError as? PSQLError)?.serverInfo?[.sqlState]
            #expect(state == "55P03", "expected a lock timeout, got \(String(reflecting: waited))")
            // SKIP LOCKED: the claim returns at once with the six free rows and none of the held ones.
            let got = try await impatient.claimDue(now: Self.t0, limit: 100, owner: "b", lease: 60)
            #expect(got.count == 6 && Set(got.compactMap(\.id)).isDisjoint(with: held))
            releaseNext.yield()
            try await holder.value
            #expect(try await ledger.claimDue(now: Self.t0, limit: 100, owner: "a", lease: 60).count == 4)
        }
    }

    /// An unmigrated database reads as an empty ledger; writes fail with the server's reason.
    @Test func unmigratedDatabaseReadsEmptyAndWritesFailClearly() async throws {
        try await Self.withLedger(migrate: false) { ledger, _ in
            #expect(try await ledger.entries(campaign: nil, user: nil, limit: 10).isEmpty)
            #expect(try await ledger.entry(key: "x") == nil)
            #expect(try await ledger.window(LedgerFilter(), limit: 10).items.isEmpty)
            #expect(try await ledger.funnels(campaign: nil, goals: [:]).isEmpty)
            do {
                _ = try await ledger.claimDue(now: Self.t0, limit: 1, owner: "a", lease: 60)
                Issue.record("claimDue should fail without tables")
            } catch let error as PostgresStoreError {
                #expect(error.description.contains("claim due rows") && error.description.contains("ledger"))
            }
        }
    }

    /// Two daemons recording overlapping keys in opposite orders at once: each key is inserted once, by one
    /// of them (a deadlock between them is retried).
    @Test func concurrentRecordsOfTheSameKeysInsertEachOnce() async throws {
        try await Self.withLedger { ledger, _ in
            let rows = (0..<2000).map { Self.row("promo/o1/u\($0)/1", user: "u\($0)") }
            let inserted = try await withThrowingTaskGroup(of: Int.self) { group in
                for batch in [rows, rows.reversed()] {
                    group.addTask { try await ledger.record(batch) }
                }
                var total = 0
                for try await n in group { total += n }
                return total
            }
            #expect(inserted == 2000)
            #expect(try await ledger.entries(campaign: "promo", user: nil, limit: 5000).count == 2000)
            #expect(try await ledger.history(key: "promo/o1/u7/1").count == 1)
        }
    }

    /// Claims restricted to shards take only rows of users in those shards.
    @Test func claimsHonourShards() async throws {
        try await Self.withLedger { ledger, _ in
            let rows = (0..<300).map { Self.row("promo/o1/u\($0)/1", user: "u\($0)") }
            _ = try await ledger.record(rows)
            let shards = [0, 1, 2, 3, 4, 5, 6, 7]
            let got = try await ledger.claimDue(
                now: Self.t0, limit: 1000, owner: "a", lease: 60, perChannel: [:], shards: shards)
            #expect(got.count == rows.filter { shards.contains(Shards.of($0.user)) }.count)
            #expect(got.allSatisfy { shards.contains(Shards.of($0.user)) })
            #expect(
                try await ledger.claimDue(
                    now: Self.t0, limit: 10, owner: "a", lease: 60, perChannel: [:], shards: []
                ).isEmpty)
        }
    }

    /// A row whose lease expired is reclaimed with its reason; the old owner's completion is then ignored.
    @Test func expiredLeasesAreReclaimedAndOnlyTheOwnerCompletes() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.record([Self.row("promo/o1/u1/1", user: "u1")])
            #expect(try await ledger.claimDue(now: Self.t0, limit: 10, owner: "a", lease: 10).count == 1)
            #expect(try await ledger.claimDue(now: Self.t0 + 5, limit: 10, owner: "b", lease: 10).isEmpty)
            let again = try await ledger.claimDue(now: Self.t0 + 11, limit: 10, owner: "b", lease: 10)
            #expect(again.map(\.attempts) == [2])
            let history = try await ledger.history(key: "promo/o1/u1/1")
            #expect(history.last?.reason == "lease expired: reclaimed")
            #expect(history.last?.from == .sending && history.last?.to == .sending)
            let sent = [DispatchOutcome(key: "promo/o1/u1/1", status: .sent)]
            #expect(try await ledger.complete(sent, owner: "a", at: Self.t0 + 12) == 0)
            #expect(try await ledger.entry(key: "promo/o1/u1/1")?.status == .sending)
            #expect(try await ledger.complete(sent, owner: "b", at: Self.t0 + 12) == 1)
            let e = try #require(try await ledger.entry(key: "promo/o1/u1/1"))
            #expect(e.status == .sent && e.sentAt == Self.t0 + 12 && e.attempts == 2)
        }
    }

    /// `releaseLeases` ends the leases of owners that are no longer members, never a live daemon's.
    @Test func releaseLeasesSparesLiveOwners() async throws {
        try await Self.withLedger { ledger, _ in
            _ = try await ledger.record((0..<6).map { Self.row("promo/o1/u\($0)/1", user: "u\($0)") })
            _ = try await ledger.balanceShards(owner: "a", now: Self.t0, lease: 30)
            _ = try await ledger.balanceShards(owner: "b", now: Self.t0, lease: 30)
            #expect(try await ledger.claimDue(now: Self.t0, limit: 2, owner: "a", lease: 300).count == 2)
            #expect(try await ledger.claimDue(now: Self.t0, limit: 2, owner: "b", lease: 300).count == 2)
            #expect(try await ledger.claimDue(now: Self.t0, limit: 2, owner: "dead", lease: 300).count == 2)
            #expect(try await ledger.releaseLeases(notOwnedBy: "b") == 2)
            // The dead owner's rows are due again at once; the live owners' are not.
            let reclaimed = try await ledger.claimDue(now: Self.t0 + 1, limit: 10, owner: "b", lease: 300)
            #expect(reclaimed.count == 2)
            // After a clean shutdown "a" is gone too.
            try await ledger.releaseShards(owner: "a")
            #expect(try await ledger.releaseLeases(notOwnedBy: "b") == 2)
        }
    }

    /// Two daemons recording the same occurrence at once: one inserts, the other inserts nothing.
    @Test func recordOccurrenceOnceUnderConcurrency() async throws {
        try await Self.withLedger { ledger, _ in
            let record = OccurrenceRecord(
                campaign: "promo", occurrence: "o1", start: Self.t0, status: .planned)
            let rows = (0..<200).map { Self.row("promo/o1/u\($0)/1", user: "u\($0)") }
            let results = try await withThrowingTaskGroup(of: (inserted: Int, fresh: Bool).self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await ledger.recordOccurrence(
                            record, entries: rows, entered: ["u1", "u2"], left: [], at: Self.t0)
                    }
                }
                var all: [(inserted: Int, fresh: Bool)] = []
                for try await r in group { all.append(r) }
                return all
            }
            #expect(results.filter(\.fresh).count == 1)
            #expect(results.map(\.inserted).sorted() == [0, 200])
            #expect(try await ledger.occurrence(campaign: "promo", id: "o1")?.decisions == 200)
            #expect(try await ledger.occurrence(campaign: "promo", id: "o1")?.status == .planned)
            #expect(try await ledger.latestOccurrence(campaign: "promo", statuses: [.planned]) == Self.t0)
            #expect(try await ledger.members(campaign: "promo") == ["u1", "u2"])
            #expect(try await ledger.entries(campaign: "promo", user: nil, limit: 1000).count == 200)
        }
    }

    // MARK: Shards

    /// Three daemons balancing in turn end with a disjoint cover of every shard, shared near evenly, one
    /// planner; when one stops renewing, the others take its shards once its lease has passed.
    @Test func shardLeasesConvergeAndMoveOnFromASilentDaemon() async throws {
        try await Self.withLedger { ledger, _ in
            let owners = ["a", "b", "c"]
            var held: [String: ShardLease] = [:]
            var now = Self.t0
            for _ in 0..<4 {
                for o in owners { held[o] = try await ledger.balanceShards(owner: o, now: now, lease: 30) }
                now += 10
            }
            func check(_ owners: [String], counts: ClosedRange<Int>) {
                let all = owners.flatMap { held[$0]!.shards }
                #expect(all.count == Shards.count && Set(all) == Set(0..<Shards.count), "\(held)")
                #expect(owners.allSatisfy { counts.contains(held[$0]!.shards.count) }, "\(held)")
                #expect(owners.filter { held[$0]!.isPlanner }.count == 1)
            }
            check(owners, counts: 20...22)
            #expect(held["a"]!.members == 3)

            // Concurrent balancing keeps the cover disjoint.
            let concurrent = try await withThrowingTaskGroup(of: (String, ShardLease).self) { group in
                for o in owners {
                    group.addTask { [now] in
                        (o, try await ledger.balanceShards(owner: o, now: now, lease: 30))
                    }
                }
                var out: [String: ShardLease] = [:]
                for try await (o, l) in group { out[o] = l }
                return out
            }
            held = concurrent
            check(owners, counts: 20...22)

            // "c" stops renewing: within its lease nothing moves; after it, "a" and "b" take everything.
            now += 10
            for o in ["a", "b"] { held[o] = try await ledger.balanceShards(owner: o, now: now, lease: 30) }
            #expect(held["a"]!.shards.count + held["b"]!.shards.count < Shards.count)
            now += 31
            for _ in 0..<3 {
                for o in ["a", "b"] {
                    held[o] = try await ledger.balanceShards(owner: o, now: now, lease: 30)
                }
                now += 10
            }
            check(["a", "b"], counts: 32...32)
            #expect(held["a"]!.members == 2)

            // A clean shutdown hands its shards over at the next balance.
            try await ledger.releaseShards(owner: "b")
            held["a"] = try await ledger.balanceShards(owner: "a", now: now, lease: 30)
            #expect(held["a"]!.shards == Array(0..<Shards.count) && held["a"]!.members == 1)
        }
    }

    // MARK: Following

    /// The next non-empty page after `cursor`, polling for up to 60 s: a change is followed once every
    /// writing transaction older than it has ended, on the whole server (tests in other databases included).
    static func nextPage(
        _ ledger: PostgresLedger, after cursor: Int64, _ filter: LedgerFilter = LedgerFilter(),
        limit: Int = 100
    ) async throws -> LedgerPage<LedgerChange> {
        var page = try await ledger.changes(after: cursor, filter, limit: limit)
        for _ in 0..<1200 where page.items.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            page = try await ledger.changes(after: page.cursor, filter, limit: limit)
        }
        return page
    }

    /// A change committed after a later-numbered one is still followed: nothing is skipped.
    @Test func followNeverSkipsAChangeCommittedLater() async throws {
        try await Self.withLedger { ledger, database in
            _ = try await ledger.record([Self.row("promo/o1/u0/1", user: "u0")])
            let start = try await ledger.window(LedgerFilter(), limit: nil)
            #expect(start.items.count == 1)
            var page = try await ledger.changes(after: start.cursor, LedgerFilter(), limit: 100)
            // The window's cursor may give its own rows again, never fewer.
            #expect(page.items.allSatisfy { $0.entry.user == "u0" })

            // A transaction takes the smaller history id and stays open while another commits.
            let (opened, openedNext) = AsyncStream<Void>.makeStream()
            let (release, releaseNext) = AsyncStream<Void>.makeStream()
            let slow = Task {
                try await database.transaction { conn in
                    _ = try await ledger.insert([Self.row("promo/o1/slow/1", user: "slow")], conn)
                    openedNext.yield()
                    for await _ in release { break }
                }
            }
            for await _ in opened { break }
            // `fast` is committed when `record` returns; the follower must still hold it back (it waits for the
            // open transaction up to `PostgresDatabase.settleTimeout`, then reads without it).
            _ = try await ledger.record([Self.row("promo/o1/fast/1", user: "fast")])
            page = try await ledger.changes(after: page.cursor, LedgerFilter(), limit: 100)
            #expect(
                page.items.allSatisfy { $0.entry.user == "u0" },
                "held back while an older transaction is open")
            releaseNext.yield()
            try await slow.value
            var users: [String] = []
            for _ in 0..<3 where users.count < 2 {
                page = try await Self.nextPage(ledger, after: page.cursor)
                users += page.items.map(\.entry.user).filter { $0 != "u0" }
            }
            #expect(users.sorted() == ["fast", "slow"])

            // Pages end at transaction boundaries; a transaction larger than the page comes whole.
            _ = try await ledger.record((0..<5).map { Self.row("promo/o2/u\($0)/1", user: "u\($0)") })
            _ = try await ledger.record([Self.row("promo/o3/u1/1", user: "u1")])
            page = try await Self.nextPage(ledger, after: page.cursor, limit: 3)
            #expect(page.items.count == 5)
            page = try await Self.nextPage(ledger, after: page.cursor, limit: 3)
            #expect(page.items.map(\.entry.idempotencyKey) == ["promo/o3/u1/1"])
            let claimed = try await ledger.claimDue(now: Self.t0, limit: 1, owner: "a", lease: 60)
            page = try await Self.nextPage(
                ledger, after: page.cursor, LedgerFilter(status: .sending), limit: 10)
            #expect(page.items.map(\.entry.idempotencyKey) == claimed.map(\.idempotencyKey))
            #expect(page.items.first?.attempts == 1)
        }
    }

    // MARK: Funnels

    /// The funnel counts rows and conversions from the audience's events.
    @Test func funnelsJoinTheAudienceEvents() async throws {
        try await Self.withLedger { ledger, database in
            var rows = (0..<4).map { Self.row("promo/o1/u\($0)/1", user: "u\($0)") }
            rows[3].status = .holdout
            _ = try await ledger.record(rows)
            _ = try await ledger.claimDue(now: Self.t0, limit: 10, owner: "a", lease: 60)
            let done = (0..<3).map { DispatchOutcome(key: "promo/o1/u\($0)/1", status: .sent) }
            #expect(try await ledger.complete(done, owner: "a", at: Self.t0 + 10) == 3)
            try await database.transaction { conn in
                let logger = database.logger
                try await conn.query(
                    "INSERT INTO users(id) VALUES ('u0'), ('u1'), ('u2'), ('u3')", logger: logger)
                try await conn.query("INSERT INTO event_names(name) VALUES ('purchase')", logger: logger)
                try await conn.query(
                    """
                    INSERT INTO events(user_pk, name_id, ts)
                    SELECT pk, 1, \((Self.t0 + 100) * 1000) FROM users WHERE id IN ('u0', 'u3')
                    UNION ALL SELECT pk, 1, \((Self.t0 + 100_000) * 1000) FROM users WHERE id = 'u1'
                    """, logger: logger)
            }
            let goal = Campaign.Conversion(event: "purchase", within: 3600)
            let f = try #require(try await ledger.funnels(campaign: "promo", goals: ["promo": goal]).first)
            #expect(f.decisions == 4 && f.sent == 3 && f.count(.holdout) == 1 && f.converted == 1)
            #expect(f.arms.map(\.isHoldout) == [true, false])
            #expect(f.arms.map(\.converted) == [1, 1])
        }
    }
}
