import Foundation
import GRDB
import HeraldCore
import HeraldPostgres
import Testing

import struct Logging.Logger
import struct PostgresNIO.PostgresQuery

@testable import HeraldLedger
@testable import HeraldSQLite
@testable import HeraldIngest
@testable import HeraldMigration

/// The PostgreSQL server the migration tests use (`HERALD_TEST_POSTGRES_URL`, e.g.
/// `postgres://herald@127.0.0.1:55432/herald`; start one with `scripts/postgres.sh start DIR PORT`).
/// Each test creates its own database there and drops it afterwards.
let migrateTestURL = ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_URL"]

/// A fresh database `t_<uuid>` on the test server, dropped by `drop()`.
struct ScratchDatabase {
    /// Its URL.
    let url: String
    let name: String
    let admin: PostgresDatabase

    /// Creates the database.
    static func make() async throws -> ScratchDatabase {
        let base = try #require(migrateTestURL)
        let admin = try PostgresDatabase(url: base, maxConnections: 1)
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await admin.connection { c in
            _ = try await c.query(
                PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "test"))
        }
        var parts = try #require(URLComponents(string: base))
        parts.path = "/" + name
        return ScratchDatabase(url: try #require(parts.string), name: name, admin: admin)
    }

    /// Drops the database (closing whatever is still connected to it).
    func drop() async {
        _ = try? await admin.connection { c in
            try await c.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"),
                logger: Logger(label: "test"))
        }
        admin.close()
    }
}

/// Runs `body` with the URL of a fresh scratch database, dropped afterwards whatever happens.
func withScratchDatabase(_ body: (String) async throws -> Void) async throws {
    let scratch = try await ScratchDatabase.make()
    do {
        try await body(scratch.url)
    } catch {
        await scratch.drop()
        throw error
    }
    await scratch.drop()
}

/// The schema the migration tests' stores declare: one attribute of every type.
let migrateSchema = AttributeSchema([
    "country": .string, "avg_order_value": .number, "vip": .bool, "tags": .list, "vip_since": .timestamp,
    "plan": .string, "first_name": .string, "lifetime_value": .number,
])

/// A SQLite store with every kind of row: the sample audience (imported), users with attributes of every type
/// and awkward text, events with properties and numbers, preferences, suppressions, ledger rows in several
/// statuses with histories, occurrences and segment members.
func makeMigrationSource(_ dir: TempDir, sampleUsers: Int = 300) async throws -> (SQLiteStore, SQLiteLedger) {
    let store = try SQLiteStore(path: dir.path("herald.db"), schema: migrateSchema, clock: { 1_700_000_000 })
    var users = ""
    var events = ""
    SampleAudience(users: sampleUsers, seed: 7, now: 1_700_000_000).generate(
        user: { users += $0 + "\n" }, event: { events += $0 + "\n" })
    let importer = Importer(store: store, schema: migrateSchema)
    _ = try await importer.importUsers(path: try dir.write("users.ndjson", users), format: .ndjson)
    _ = try await importer.importEvents(path: try dir.write("events.ndjson", events), format: .ndjson)

    var odd = UserUpsert(id: "odd\tuser\\with\nbreaks ✓")
    odd.email = "odd@example.com"
    odd.birthday = CivilDate(year: 1990, month: 2, day: 28)
    odd.attributes = [
        "country": .string("tab\there, backslash \\ and \"quotes\" 明"), "avg_order_value": .number(0.1),
        "vip": .bool(true), "tags": .list(["a,b", "c\"d", "é"]), "vip_since": .timestamp(1_690_000_000_123),
        "lifetime_value": .number(-1e-7), "plan": .string(""),
    ]
    var plain = UserUpsert(id: "plain")
    plain.phone = "+15550001111"
    plain.attributes = ["vip": .bool(false), "avg_order_value": .number(1e21), "lifetime_value": .number(42)]
    _ = try await store.upsertUsers([odd, plain])
    _ = try await store.insertEvents([
        EventRecord(
            userID: odd.id, name: "purchase", timestampMillis: 1_699_999_000_001,
            propertiesJSON: #"{"amount":12.5,"note":"a\tb","sku":"X-1"}"#, numbers: ["amount": 12.5],
            messageID: "m-1"),
        EventRecord(userID: "plain", name: "page view", timestampMillis: -5, propertiesJSON: nil),
    ])
    try await store.setPreference(userID: "plain", scope: .global, optedOut: true, at: 1_700_000_001)
    try await store.setPreference(userID: odd.id, scope: .channel("sms"), optedOut: true, at: 1_700_000_002)
    try await store.setPreference(
        userID: odd.id, scope: .topic("promotions"), optedOut: false, at: 1_700_000_003)
    try await store.suppress(
        Suppression(list: "bounces", address: "odd@example.com", reason: "hard", createdAt: 5))
    try await store.suppress(Suppression(list: "manual", address: "plain", createdAt: 6))

    let ledger = try SQLiteLedger(pool: store.pool)
    var entries: [LedgerEntry] = []
    for (i, status) in [LedgerStatus.scheduled, .scheduled, .suppressed, .holdout, .scheduled].enumerated() {
        var e = LedgerEntry(
            idempotencyKey: "welcome:u\(i):1", campaign: "welcome", user: i == 0 ? odd.id : "u000000\(i)",
            status: status, channel: .email, scheduledAt: 1_700_000_100 + Int64(i), createdAt: 1_700_000_000,
            topic: i == 1 ? "promotions" : nil, transactional: i == 2)
        e.occurrence = "2023-11-14"
        e.address = "x\(i)@example.com"
        entries.append(e)
    }
    let record = OccurrenceRecord(
        campaign: "welcome", occurrence: "2023-11-14", start: 1_700_000_000, status: .planned)
    _ = try await ledger.recordOccurrence(
        record, entries: entries, entered: [odd.id, "plain"], left: [], at: 1_700_000_000)
    _ = try await ledger.recordOccurrence(
        OccurrenceRecord(
            campaign: "digest", occurrence: "w46", start: 1_699_000_000, status: .missed, detail: "down"),
        entries: [], at: 1_700_000_000)
    _ = try await ledger.updateStatus(
        key: "welcome:u0:1", to: .sending, reason: nil, error: nil, providerMessageID: nil, at: 1_700_000_200)
    _ = try await ledger.updateStatus(
        key: "welcome:u0:1", to: .sent, reason: nil, error: nil, providerMessageID: "pm-1", at: 1_700_000_201)
    _ = try await ledger.updateStatus(
        key: "welcome:u1:1", to: .failed, reason: "timeout", error: "smtp 451", providerMessageID: nil,
        at: 1_700_000_202)
    _ = try await ledger.markOpened(key: "welcome:u0:1", at: 1_700_000_300)
    // Journey state: a kept version, an instance that moved once, its step record.
    try await ledger.saveJourneyVersion(journey: "onboarding", version: "v1", file: "onboarding.yaml", source: "id: x")
    var instance = JourneyInstance(
        journey: "onboarding", id: "ev-1", user: odd.id, version: "v1", step: "welcome", reachedAt: 1_700_000_000,
        dueAt: 1_700_000_000, enteredAt: 1_700_000_000)
    _ = try await ledger.enterJourney(instance, reEntryAfter: nil)
    instance.step = "day-1"
    instance.dueAt = 1_700_086_400
    _ = try await ledger.moveInstance(
        instance, expectedMoves: 0,
        records: [
            JourneyStepRecord(
                journey: "onboarding", instance: "ev-1", user: odd.id, step: "welcome", at: 1_700_000_030,
                outcome: "sent", next: "day-1")
        ])
    return (store, ledger)
}

/// Tables the fixture fills (each must arrive with rows).
let filledTables = [
    "users", "attribute_names", "user_attributes", "event_names", "property_keys", "events",
    "event_message_ids",
    "event_numbers", "preferences", "suppressions", "ledger", "ledger_history", "occurrences",
    "segment_members", "journey_versions", "journey_instances", "journey_steps",
]

@Suite(
    "herald store migrate: SQLite → PostgreSQL",
    // Needs a PostgreSQL server: set HERALD_TEST_POSTGRES_URL (scripts/postgres.sh starts one).
    .enabled(if: migrateTestURL != nil), .serialized)
struct SQLiteToPostgresMigrateTests {
    @Test(
        "every table arrives with the same rows, verified by count and checksum; ids and sequences carry over"
    )
    func migratesAndVerifies() async throws {
        let dir = try TempDir()
        let (store, ledger) = try await makeMigrationSource(dir)
        try await withScratchDatabase { url in
            let target = try PostgresDatabase(url: url, maxConnections: 4)
            defer { target.close() }
            try await target.migrate(SQLiteToPostgres.targetMigrations)
            let copier = try SQLiteToPostgres(sourcePath: store.pool.path, target: target)
            let plans = try await copier.plan()
            let copied = try await copier.copy(plans)
            let report = try await copier.verify(plans)
            for t in filledTables {
                let r = try #require(report.first { $0.table == t }, "table \(t) was not migrated")
                #expect(r.ok, "\(t): \(r)")
                #expect(r.sourceRows > 0, "\(t) is empty in the fixture")
                #expect(copied[t] == r.sourceRows)
            }
            #expect(report.allSatisfy { $0.ok })
            // Parents before children.
            let order = plans.map(\.table)
            #expect(order.firstIndex(of: "users")! < order.firstIndex(of: "events")!)
            #expect(order.firstIndex(of: "ledger")! < order.firstIndex(of: "ledger_history")!)

            try await expectSameReadBack(store, ledger, target)

            // Derived shard, and sequences past the copied ids.
            try await target.connection { c in
                let rows = try await c.query(
                    #"SELECT "user", shard FROM ledger"#, logger: Logger(label: "test"))
                for try await (user, shard) in rows.decode((String, Int16).self) {
                    #expect(Int(shard) == Shards.of(user), "shard of \(user)")
                }
                let next = try await c.query(
                    "SELECT nextval(pg_get_serial_sequence('ledger_history', 'id')), (SELECT max(id) FROM ledger_history)",
                    logger: Logger(label: "test"))
                for try await (n, max) in next.decode((Int64, Int64).self) { #expect(n == max + 1) }
            }
        }
    }

    @Test("a second migrate into the same target is refused and changes nothing")
    func refusesNonEmptyTarget() async throws {
        let dir = try TempDir()
        let (store, _) = try await makeMigrationSource(dir, sampleUsers: 20)
        try await withScratchDatabase { url in
            let target = try PostgresDatabase(url: url, maxConnections: 4)
            defer { target.close() }
            try await target.migrate(SQLiteToPostgres.targetMigrations)
            let copier = try SQLiteToPostgres(sourcePath: store.pool.path, target: target)
            let plans = try await copier.plan()
            try await copier.copy(plans)
            let before = try await copier.verify(plans)
            // New rows in the source must not reach the target.
            _ = try await store.upsertUsers([UserUpsert(id: "late")])
            await #expect {
                try await copier.copy(plans)
            } throws: { e in
                guard let e = e as? StoreMigrationError else { return false }
                return e.kind == .targetNotEmpty && e.description.contains("empty database")
            }
            let after = try await copier.verify(plans)
            #expect(
                zip(before, after).allSatisfy {
                    $0.targetChecksum == $1.targetChecksum && $0.targetRows == $1.targetRows
                })
        }
    }

    @Test("a failure part-way leaves the target empty")
    func failureRollsBack() async throws {
        let dir = try TempDir()
        let (store, _) = try await makeMigrationSource(dir, sampleUsers: 20)
        // A value the target column cannot take (SQLite keeps text in an INTEGER column), in a table copied
        // after users.
        try await store.pool.write { db in
            try db.execute(sql: "INSERT INTO preferences VALUES ('zz-bad', 'global', '', 'maybe', 1)")
        }
        try await withScratchDatabase { url in
            let target = try PostgresDatabase(url: url, maxConnections: 4)
            defer { target.close() }
            try await target.migrate(SQLiteToPostgres.targetMigrations)
            let copier = try SQLiteToPostgres(sourcePath: store.pool.path, target: target)
            let plans = try await copier.plan()
            await #expect {
                try await copier.copy(plans)
            } throws: { e in
                let text = "\(e)"
                return text.contains("table preferences, column opted_out")
                    && text.contains(#"user_id="zz-bad""#)
                    && text.contains("'maybe' is not a boolean")
            }
            let users = try await target.connection { c in
                var n = -1
                for try await count in try await c.query(
                    "SELECT count(*) FROM users", logger: Logger(label: "test")
                )
                .decode(Int.self) { n = count }
                return n
            }
            #expect(users == 0)
        }
    }

    @Test("an unreachable or malformed URL fails clearly, without the password")
    func badURL() async throws {
        #expect(throws: PostgresStoreError.self) {
            try PostgresDatabase(url: "mysql://herald:s3cret@127.0.0.1/x")
        }
        do {
            _ = try PostgresDatabase(url: "mysql://herald:s3cret@127.0.0.1/x")
        } catch {
            #expect(!"\(error)".contains("s3cret"))
        }
        let target = try PostgresDatabase(url: "postgres://herald:s3cret@127.0.0.1:1/nowhere?sslmode=disable")
        defer { target.close() }
        let started = Date()
        do {
            try await SQLiteToPostgres.checkReachable(target, timeout: .seconds(2))
            Issue.record("connected to port 1?")
        } catch {
            let text = "\(error)"
            #expect(text.contains("no connection to postgres://herald:***@127.0.0.1:1/nowhere"), "\(text)")
            #expect(!text.contains("s3cret"))
        }
        #expect(Date().timeIntervalSince(started) < 10)
    }
}

/// Reads the migrated data back through `PostgresStore` and `PostgresLedger` and expects what the SQLite store
/// and ledger return; then writes through both PostgreSQL APIs (new ids must not collide with copied ones).
func expectSameReadBack(_ store: SQLiteStore, _ ledger: SQLiteLedger, _ target: PostgresDatabase) async throws
{
    let pg = PostgresStore(database: target, schema: migrateSchema, clock: { 1_700_000_000 })
    let pgLedger = PostgresLedger(database: target)
    let ids = try await store.pool.read { db in
        try String.fetchAll(db, sql: "SELECT id FROM users ORDER BY pk")
    }
    for id in ids {
        #expect(try await pg.profile(id: id) == store.profile(id: id), "profile \(id)")
        #expect(
            readBackText(try await pg.facts(id: id)) == readBackText(try await store.facts(id: id)),
            "facts \(id)")
        #expect(try await pg.preferences(userID: id) == store.preferences(userID: id), "preferences \(id)")
    }
    let requirements = SnapshotRequirements(
        events: ["purchase", "page view", "signed_up", "cart_abandoned"],
        eventNumbers: ["purchase": ["amount"]])
    #expect(
        readBackText(try await pg.snapshot(requirements))
            == readBackText(try await store.snapshot(requirements)))
    let addresses = ["odd@example.com", "plain", "nobody"]
    #expect(try await pg.isSuppressed(addresses) == store.isSuppressed(addresses))
    // The change feed is not moved (it serves processes on the live store): the new store's starts empty.
    #expect(try await pg.changes(since: 0, limit: 100_000).isEmpty)
    #expect(try await !store.changes(since: 0, limit: 100_000).isEmpty)

    let expected = try await ledger.entries(campaign: nil, user: nil, limit: 10_000)
    let got = try await pgLedger.entries(campaign: nil, user: nil, limit: 10_000)
    #expect(
        got.sorted { $0.idempotencyKey < $1.idempotencyKey }
            == expected.sorted { $0.idempotencyKey < $1.idempotencyKey })
    for e in expected {
        #expect(try await pgLedger.history(key: e.idempotencyKey) == ledger.history(key: e.idempotencyKey))
    }
    for (campaign, occurrence) in [("welcome", "2023-11-14"), ("digest", "w46")] {
        #expect(
            try await pgLedger.occurrence(campaign: campaign, id: occurrence)
                == ledger.occurrence(campaign: campaign, id: occurrence))
        #expect(try await pgLedger.members(campaign: campaign) == ledger.members(campaign: campaign))
    }

    // New rows get fresh ids after the copied ones.
    var late = UserUpsert(id: "after-migration")
    late.attributes = ["vip": .bool(true)]
    #expect(try await pg.upsertUsers([late]).inserted == 1)
    _ = try await pg.insertEvents([
        EventRecord(userID: "after-migration", name: "brand new", timestampMillis: 1)
    ])
    let fresh = LedgerEntry(
        idempotencyKey: "after:1", campaign: "after", user: "after-migration", status: .scheduled,
        createdAt: 1)
    #expect(try await pgLedger.record([fresh]) == 1)
    #expect(try await pgLedger.history(key: "after:1").count == 1)
}

/// A deterministic text of facts, attributes sorted (dictionary order differs between stores).
func readBackText(_ f: UserFacts?) -> String {
    guard let f else { return "nil" }
    let events = f.events.keys.sorted().map { name in
        let e = f.events[name] ?? EventSeries()
        return "\(name): \(e.timestamps) \(e.numbers.keys.sorted().map { "\($0)=\(e.numbers[$0] ?? [])" })"
    }
    var profile = f.profile
    let attributes = profile.attributes.keys.sorted().map {
        "\($0)=\(String(describing: profile.attributes[$0]))"
    }
    profile.attributes = [:]
    return "\(profile) \(attributes) \(events) \(f.allEventTimes) \(String(describing: f.engagement))"
}

/// A deterministic text of a snapshot (ids, columns, attributes and events by sorted name).
func readBackText(_ s: AudienceSnapshot) -> String {
    func column(_ c: EventColumn) -> String {
        "\(c.offsets) \(c.timestamps) \(c.numbers.keys.sorted().map { "\($0)=\(c.numbers[$0] ?? [])" })"
    }
    var out = [
        "\(s.ids)", "\(s.email)", "\(s.phone)", "\(s.locale)", "\(s.timezone)", "\(s.timezoneNames)",
        "\(s.createdAt)", "\(s.lastSeenImported)", "\(s.birthday)", "\(s.engagement)", column(s.allEvents),
    ]
    for name in s.attributes.keys.sorted() {
        out.append("\(name): \(String(describing: s.attributes[name]))")
    }
    for name in s.events.keys.sorted() { out.append("\(name): \(s.events[name].map(column) ?? "-")") }
    return out.joined(separator: "\n")
}
