import Foundation
import HeraldCore
import HeraldLedger
import HeraldSQLite
import Testing

@testable import HeraldPostgres

/// The admin URL of a throwaway PostgreSQL server (a role that may CREATE DATABASE), from
/// `HERALD_TEST_POSTGRES_URL`; nil (with a note on stdout) when unset, and the suite is skipped.
private let smokeAdminURL: String? = {
    let url = ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    if url == nil {
        print(
            "PostgresStoreSmokeTests: skipped, HERALD_TEST_POSTGRES_URL is not set "
                + "(e.g. postgres://herald@127.0.0.1:55432/herald; scripts/postgres.sh starts a throwaway server)")
    }
    return url
}()

/// A fresh database `t_<uuid>` on the test server, migrated for the store; `drop()` removes it.
private final class SmokeDatabase: Sendable {
    let admin: PostgresDatabase
    let database: PostgresDatabase
    let name: String

    init() async throws {
        guard let adminURL = smokeAdminURL, var c = URLComponents(string: adminURL) else {
            throw PostgresStoreError("HERALD_TEST_POSTGRES_URL is not set")
        }
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        self.name = name
        let admin = try PostgresDatabase(url: adminURL, maxConnections: 1)
        self.admin = admin
        try await admin.runSQL("CREATE DATABASE \(name)")
        c.path = "/" + name
        guard let url = c.string else { throw PostgresStoreError("cannot build the test database URL") }
        database = try PostgresDatabase(url: url, maxConnections: 8)
        do {
            try await database.migrate(PostgresStore.migrations)
        } catch {
            await drop()
            throw error
        }
    }

    func store(schema: AttributeSchema = testSchema) -> PostgresStore {
        PostgresStore(database: database, schema: schema, clock: { 1_700_000_000 })
    }

    func drop() async {
        database.close()
        do {
            try await admin.runSQL("DROP DATABASE IF EXISTS \(self.name) WITH (FORCE)")
        } catch {
            print("PostgresStoreSmokeTests: could not drop \(name): \(String(reflecting: error))")
        }
        admin.close()
    }
}

/// Runs `body` on a fresh PostgreSQL store and a fresh SQLite store with the same clock and schema.
private func withBoth(
    _ body: (_ pg: PostgresStore, _ lite: SQLiteStore, _ db: SmokeDatabase) async throws -> Void
) async throws {
    let db = try await SmokeDatabase()
    let dir = try TempDir()
    do {
        try await body(db.store(), try makeStore(dir), db)
    } catch {
        await db.drop()
        throw error
    }
    await db.drop()
}

/// The first value of `read` that satisfies `done`, polling for up to 20 seconds (then the last value).
private func eventually<T>(_ read: () async throws -> T, until done: (T) -> Bool) async throws -> T {
    let deadline = Date().addingTimeInterval(20)
    var value = try await read()
    while !done(value) && Date() < deadline {
        try await Task.sleep(nanoseconds: 20_000_000)
        value = try await read()
    }
    return value
}

/// A deterministic text of a snapshot (sorted keys, NaN spelled out) for comparing two of them.
private func describe(_ s: AudienceSnapshot) -> String {
    func column(_ c: EventColumn) -> String {
        let numbers = c.numbers.keys.sorted().map { "\($0)=\(c.numbers[$0] ?? [])" }
        return "offsets=\(c.offsets) ts=\(c.timestamps) numbers=\(numbers)"
    }
    var out = [
        "ids=\(s.ids)", "email=\(s.email)", "phone=\(s.phone)", "locale=\(s.locale)", "tz=\(s.timezone)",
        "tzNames=\(s.timezoneNames)", "created=\(s.createdAt)", "lastSeen=\(s.lastSeenImported)",
        "birthday=\(s.birthday)", "engagement=\(s.engagement.count)", "all: \(column(s.allEvents))",
    ]
    for name in s.attributes.keys.sorted() { out.append("attr \(name): \(String(describing: s.attributes[name]))") }
    for name in s.events.keys.sorted() { out.append("event \(name): \(s.events[name].map(column) ?? "-")") }
    return out.joined(separator: "\n")
}

/// A deterministic text of facts (for comparing; NaN-safe).
private func describe(_ f: UserFacts?) -> String {
    guard let f else { return "nil" }
    let events = f.events.keys.sorted().map { name -> String in
        let e = f.events[name] ?? EventSeries()
        return "\(name): \(e.timestamps) \(e.numbers.keys.sorted().map { "\($0)=\(e.numbers[$0] ?? [])" })"
    }
    var profile = f.profile
    let attributes = profile.attributes.keys.sorted().map { "\($0)=\(String(describing: profile.attributes[$0]))" }
    profile.attributes = [:]
    return "\(profile) \(attributes) \(events) \(f.allEventTimes) \(String(describing: f.engagement))"
}

/// Users exercising every reserved field and attribute type, set, changed and cleared.
private let userBatches: [[UserUpsert]] = {
    var a = UserUpsert(id: "u1")
    a.email = "a@example.com"
    a.phone = "+15550001111"
    a.timezone = "Europe/Paris"
    a.locale = "fr-FR"
    a.createdAt = 1_600_000_000
    a.birthday = TimestampParser.parseDate("1990-05-17")
    a.lastSeenAt = 1_650_000_000
    a.attributes = [
        "country": .string("FR"), "avg_order_value": .number(12.5), "vip": .bool(true), "tags": .list(["a", "b\"c"]),
        "signup": .timestamp(1_600_000_100), "undeclared": .string("x"),
    ]
    var b = UserUpsert(id: "u2")
    b.email = "b@example.com"
    b.timezone = "Asia/Tokyo"
    b.attributes = ["country": .string("JP"), "avg_order_value": .number(.nan), "tags": .list([])]
    var c = UserUpsert(id: "u0")
    c.phone = "15550001111"
    c.attributes = ["country": .number(3), "vip": .bool(false)]
    // Second batch: unchanged, changed, cleared, a new user, and the same user twice.
    var a2 = UserUpsert(id: "u1")
    a2.email = "a@example.com"
    var b2 = UserUpsert(id: "u2")
    b2.email = .some(nil)
    b2.attributes = ["country": .null]
    var c2 = UserUpsert(id: "u0")
    c2.attributes = ["vip": .bool(false)]
    var d = UserUpsert(id: "u3")
    d.timezone = "Europe/Paris"
    var d2 = UserUpsert(id: "u3")
    d2.locale = "en"
    var a3 = UserUpsert(id: "u1")
    a3.attributes = ["tags": .list(["a", "b\"c"]), "country": .string("DE")]
    return [[a, b, c], [a2, b2, c2, d, d2, a3], [a2, UserUpsert(id: "u2")]]
}()

/// Events with duplicates (same identity, same message id across users) and numbers.
private let eventBatches: [[EventRecord]] = [
    [
        EventRecord(userID: "u1", name: "purchase", timestampMillis: 1_700_000_000_500, propertiesJSON: #"{"amount":5}"#,
                    numbers: ["amount": 5]),
        EventRecord(userID: "u1", name: "purchase", timestampMillis: 1_700_000_000_500, propertiesJSON: #"{"amount":5}"#,
                    numbers: ["amount": 5]),
        EventRecord(userID: "u1", name: "purchase", timestampMillis: 1_700_000_000_500, propertiesJSON: #"{"amount":7}"#,
                    numbers: ["amount": 7, "qty": 2]),
        EventRecord(userID: "u9", name: "visit", timestampMillis: -1_500, messageID: "m1"),
        EventRecord(userID: "u2", name: "visit", timestampMillis: 1_700_000_100_000, messageID: "m1"),
        EventRecord(userID: "u2", name: "purchase", timestampMillis: 1_700_000_050_000, numbers: ["amount": .infinity]),
        EventRecord(userID: "u0", name: "visit", timestampMillis: 1_699_999_000_000),
    ],
    [
        EventRecord(userID: "u1", name: "purchase", timestampMillis: 1_700_000_000_500, propertiesJSON: #"{"amount":5}"#,
                    numbers: ["amount": 5]),
        EventRecord(userID: "u8", name: "visit", timestampMillis: 1_700_000_200_000, messageID: "m1"),
        EventRecord(userID: "u8", name: "signup", timestampMillis: 1_700_000_200_000, messageID: "m2"),
        EventRecord(userID: "u1", name: "visit", timestampMillis: 1_600_000_000_000),
    ],
]

private let requirements = SnapshotRequirements(
    events: ["purchase", "visit", "never"], eventNumbers: ["purchase": ["amount", "qty", "absent"], "never": ["x"]])

@Suite(
    "PostgresStore smoke tests",
    // Needs a PostgreSQL server: skipped (without an issue) when HERALD_TEST_POSTGRES_URL is unset.
    .enabled(if: smokeAdminURL != nil, "set HERALD_TEST_POSTGRES_URL to run the PostgreSQL store tests"),
    .serialized)
struct PostgresStoreSmokeTests {
    @Test func upsertMergeCountsAndProfilesMatchSQLite() async throws {
        try await withBoth { pg, lite, _ in
            for batch in userBatches {
                let expected = try await lite.upsertUsers(batch)
                #expect(try await pg.upsertUsers(batch) == expected)
            }
            #expect(try await pg.upsertUsers([]) == BatchResult())
            for id in ["u0", "u1", "u2", "u3", "nobody"] {
                #expect(try await pg.profile(id: id) == (try await lite.profile(id: id)), "profile \(id)")
            }
            let p = try await pg.profile(id: "u1")
            #expect(p?.attributes["tags"] == .list(["a", "b\"c"]))
            #expect(p?.attributes["country"] == .string("DE"))
            #expect(try await pg.profile(id: "u2")?.email == nil)
            #expect(try await pg.counts() == (try await lite.counts()))
        }
    }

    @Test func eventsDeduplicateLikeSQLite() async throws {
        try await withBoth { pg, lite, _ in
            _ = try await lite.upsertUsers(userBatches[0])
            _ = try await pg.upsertUsers(userBatches[0])
            for batch in eventBatches {
                let expected = try await lite.insertEventsReportingNew(batch, awaitingPlanning: ["visit", "signup"])
                let got = try await pg.insertEventsReportingNew(batch, awaitingPlanning: ["visit", "signup"])
                #expect(got.result == expected.result)
                #expect(got.new == expected.new)
            }
            // A whole batch again: every event is a duplicate.
            #expect(try await pg.insertEvents(eventBatches[0]) == BatchResult(unchanged: eventBatches[0].count))
            _ = try await lite.insertEvents(eventBatches[0])
            #expect(try await pg.counts() == (try await lite.counts()))
            for id in ["u0", "u1", "u2", "u8", "u9", "nobody"] {
                let got = describe(try await pg.facts(id: id))
                let expected = describe(try await lite.facts(id: id))
                #expect(got == expected, "facts \(id)")
            }
            let pendingPG = try await pg.eventsAwaitingPlanning(limit: 1000)
            #expect(!pendingPG.isEmpty)
            #expect(pendingPG == (try await lite.eventsAwaitingPlanning(limit: 1000)))
            try await pg.markPlanned(Array(pendingPG.prefix(2)))
            try await lite.markPlanned(Array(pendingPG.prefix(2)))
            #expect(try await pg.eventsAwaitingPlanning(limit: 1000) == (try await lite.eventsAwaitingPlanning(limit: 1000)))
        }
    }

    @Test func snapshotEqualsSQLiteSnapshot() async throws {
        try await withBoth { pg, lite, _ in
            for batch in userBatches {
                _ = try await lite.upsertUsers(batch)
                _ = try await pg.upsertUsers(batch)
            }
            for batch in eventBatches {
                _ = try await lite.insertEvents(batch)
                _ = try await pg.insertEvents(batch)
            }
            let expected = describe(try await lite.snapshot(requirements))
            let got = describe(try await pg.snapshot(requirements))
            #expect(got == expected)
            #expect(describe(try await pg.snapshot(SnapshotRequirements())) == describe(try await lite.snapshot(SnapshotRequirements())))
            #expect(try await pg.usersWithPhone("+1 555 000 1111") == (try await lite.usersWithPhone("+1 555 000 1111")))
            #expect(try await pg.usersWithPhone("+1 555 000 1111") == ["u1"])
        }
    }

    @Test func consentBookAndDispatchFactsMatchSQLite() async throws {
        try await withBoth { pg, lite, _ in
            for store in [pg, lite] as [any HeraldAudience] {
                _ = try await store.upsertUsers(userBatches[0])
                _ = try await store.insertEvents(eventBatches[0])
                try await store.setPreference(userID: "u1", scope: .channel("sms"), optedOut: true, at: 10)
                try await store.setPreference(userID: "u1", scope: .topic("promotions"), optedOut: true, at: 20)
                try await store.setPreference(userID: "u1", scope: .topic("promotions"), optedOut: false, at: 30)
                try await store.setPreference(userID: "u2", scope: .global, optedOut: true, at: 40)
                try await store.suppress(Suppression(list: "bounces", address: "a@example.com", reason: "hard", createdAt: 5))
                try await store.suppress(Suppression(list: "manual", address: "a@example.com", reason: "", createdAt: 6))
                try await store.suppress(Suppression(list: "manual", address: "u0", reason: "asked", createdAt: 7))
                try await store.suppress(Suppression(list: "gone", address: "x@y.z", reason: "", createdAt: 8))
                #expect(try await store.unsuppress(list: "gone", address: "x@y.z"))
                #expect(try await store.unsuppress(list: "gone", address: "x@y.z") == false)
            }
            for user in ["u1", "u2", "u3"] {
                #expect(try await pg.preferences(userID: user) == (try await lite.preferences(userID: user)))
            }
            #expect(try await pg.isSuppressed(["a@example.com", "u0", ""]) == (try await lite.isSuppressed(["a@example.com", "u0", ""])))
            let bookPG = try await pg.consentBook()
            let bookLite = try await lite.consentBook()
            #expect(bookPG.consent == bookLite.consent)
            #expect(bookPG.suppressions == bookLite.suppressions)
            #expect(bookPG.consent["u1"] == ConsentState(channels: [.sms]))

            let args = (users: ["u1", "u2", "u0", "nobody", "u1"], addresses: ["a@example.com", ""])
            let fPG = try await pg.dispatchFacts(
                users: args.users, addresses: args.addresses, eventNames: ["purchase", "visit"], eventsSince: 1_600_000_000)
            let fLite = try await lite.dispatchFacts(
                users: args.users, addresses: args.addresses, eventNames: ["purchase", "visit"], eventsSince: 1_600_000_000)
            #expect(fPG.profiles == fLite.profiles)
            #expect(fPG.consent == fLite.consent)
            #expect(fPG.suppressions == fLite.suppressions)
            #expect(fPG.events == fLite.events)
            #expect(fPG.events["u1"]?["purchase"]?.count == 2)
        }
    }

    @Test func changeFeedGrowsAndNeverSkipsConcurrentWrites() async throws {
        try await withBoth { pg, _, db in
            // A committed change is counted once every older write transaction in the cluster has ended (the
            // store waits for that up to `PostgresDatabase.settleTimeout`): on a busy shared server, poll.
            let s0 = try await pg.changeSequence()
            _ = try await pg.upsertUsers([UserUpsert(id: "u1")])
            let s1 = try await eventually { try await pg.changeSequence() } until: { $0 > s0 }
            try await pg.setPreference(userID: "u1", scope: .global, optedOut: true, at: 1)
            let s2 = try await eventually { try await pg.changeSequence() } until: { $0 > s1 }
            #expect(s0 < s1 && s1 < s2)
            let other = db.store()
            _ = try await other.insertEvents([EventRecord(userID: "u1", name: "x", timestampMillis: 1)])
            #expect(try await eventually { try await pg.changeSequence() } until: { $0 > s2 } > s2)
            let one = try await eventually { try await pg.changes(since: s2, limit: 10) } until: { !$0.isEmpty }
            #expect(one.map(\.kind) == ["events"])
            _ = try await other.insertEvents([EventRecord(userID: "new", name: "x", timestampMillis: 1)])
            let both = try await eventually { try await pg.changes(since: s2, limit: 10) } until: { $0.count >= 3 }
            #expect(both.map(\.kind) == ["events", "users", "events"])

            // Writers on two stores (two pools) at once, on overlapping users and events: no unique violation,
            // and the feed read while they run returns every change once, in ascending order.
            let start = try await pg.changeSequence()
            let writers = 8
            let perWriter = 12
            async let feed: [StoreChange] = {
                var seen: [StoreChange] = []
                var cursor = start
                let deadline = Date().addingTimeInterval(30)
                while seen.count < writers * perWriter && Date() < deadline {
                    let page = try await pg.changes(since: cursor, limit: 7)
                    seen += page
                    cursor = page.last?.sequence ?? cursor
                }
                return seen
            }()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<writers {
                    let store = w % 2 == 0 ? pg : other
                    group.addTask {
                        for i in 0..<perWriter {
                            if i % 2 == 0 {
                                var u = UserUpsert(id: "c\(i % 5)")
                                u.attributes = ["country": .string("w\(w)")]
                                u.email = "w\(w)@example.com"
                                _ = try await store.upsertUsers([u, UserUpsert(id: "c\((i + 1) % 5)")])
                            } else {
                                _ = try await store.insertEvents([
                                    EventRecord(userID: "c\(i % 5)", name: "tick", timestampMillis: Int64(i), messageID: "m\(i)"),
                                    EventRecord(userID: "c\((i + 3) % 5)", name: "tick", timestampMillis: Int64(i)),
                                ])
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let seen = try await feed
            let sequences = seen.map(\.sequence)
            #expect(sequences == sequences.sorted() && Set(sequences).count == sequences.count)
            let all = try await eventually { try await pg.changes(since: start, limit: 10_000) } until: { changes in
                changes.filter { $0.kind == "events" }.count >= writers * perWriter / 2
            }
            #expect(seen.map(\.sequence) == Array(all.prefix(seen.count).map(\.sequence)))
            #expect(all.filter { $0.kind == "users" && $0.rows == 2 }.count == writers * perWriter / 2)
            #expect(all.filter { $0.kind == "events" }.count == writers * perWriter / 2)
            #expect(try await pg.counts().events == 14)
        }
    }

    @Test func opposingConcurrentBatchesBothSucceed() async throws {
        try await withBoth { pg, _, db in
            // The same users and events in opposite orders from two pools: lock waits, and deadlocks the
            // server breaks (the losing transaction runs again), but never an error.
            let other = db.store()
            let ids = (0..<300).map { "o\($0)" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (k, store) in [pg, other].enumerated() {
                    let order = k == 0 ? ids : ids.reversed()
                    group.addTask {
                        for round in 0..<4 {
                            _ = try await store.upsertUsers(order.map { id in
                                var u = UserUpsert(id: id)
                                u.attributes = ["country": .string("r\(round)k\(k)"), "k\(k)": .number(Double(round))]
                                return u
                            })
                            _ = try await store.insertEvents(order.map { id in
                                EventRecord(userID: id, name: "e\(round % 2)", timestampMillis: Int64(round), messageID: "\(id)-\(round)")
                            })
                        }
                    }
                }
                try await group.waitForAll()
            }
            let counts = try await pg.counts()
            #expect(counts.users == 300)
            #expect(counts.events == 1200)
        }
    }
}
