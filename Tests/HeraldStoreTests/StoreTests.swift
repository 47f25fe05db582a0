import Foundation
import GRDB
import HeraldCore
import Testing

@testable import HeraldLedger
@testable import HeraldSQLite
@testable import HeraldIngest

/// The audience store, against every backend in `TestBackend.all` from one body each; the tests of SQLite's
/// own mechanics (query plans, index deferral, split scans) are SQLite-only and say so.
@Suite struct StoreTests {
    @Test(arguments: TestBackend.all)
    func upsertMergesPresentFieldsAndKeepsAbsentOnes(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            var a = UserUpsert(id: "u1")
            a.email = "a@b.cn"
            a.phone = "+8613800138000"
            a.birthday = CivilDate(year: 1990, month: 2, day: 28)
            a.attributes = ["country": .string("CN"), "avg_order_value": .number(120.5), "tags": .list(["x", "y"])]
            #expect(try await store.upsertUsers([a]) == BatchResult(inserted: 1))

            var b = UserUpsert(id: "u1")
            b.email = .some(nil)
            b.timezone = "Asia/Shanghai"
            b.attributes = ["country": .null, "vip": .bool(true)]
            #expect(try await store.upsertUsers([b]) == BatchResult(updated: 1))
            #expect(try await store.upsertUsers([b]) == BatchResult(unchanged: 1))

            let p = try #require(try await store.profile(id: "u1"))
            #expect(p.email == nil)
            #expect(p.phone == "+8613800138000")
            #expect(p.timezone == "Asia/Shanghai")
            #expect(p.birthday == CivilDate(year: 1990, month: 2, day: 28))
            #expect(p.attributes == ["avg_order_value": .number(120.5), "tags": .list(["x", "y"]), "vip": .bool(true)])
            #expect(try await store.profile(id: "nobody") == nil)

            // Another process (a second store on the same data) merges into the existing row.
            let other = try backend.reopen()
            var c = UserUpsert(id: "u1")
            c.locale = "zh-CN"
            #expect(try await other.upsertUsers([c, UserUpsert(id: "u2")]) == BatchResult(inserted: 1, updated: 1))
            #expect(try await store.profile(id: "u1")?.locale == "zh-CN")
            #expect(try await store.profile(id: "u1")?.phone == "+8613800138000")
        }
    }

    @Test(arguments: TestBackend.all)
    func eventsDedupeAndCreateUnknownUsers(_ kind: TestBackend) async throws {
        // Says `throws`: the body's only `try`s are inside `#expect`, which the closure's inference does not see.
        try await Backend.with(kind) { backend async throws in
            let store = backend.store
            let events = [
                EventRecord(userID: "u9", name: "purchase", timestampMillis: 1_000, propertiesJSON: #"{"amount":3}"#,
                    numbers: ["amount": 3]),
                EventRecord(userID: "u9", name: "purchase", timestampMillis: 1_000, propertiesJSON: #"{"amount":4}"#,
                    numbers: ["amount": 4]),
                EventRecord(userID: "u9", name: "purchase", timestampMillis: 1_000, propertiesJSON: #"{"amount":3}"#,
                    numbers: ["amount": 3]),
            ]
            #expect(try await store.insertEvents(events) == BatchResult(inserted: 2, unchanged: 1))
            #expect(try await store.insertEvents(events) == BatchResult(unchanged: 3))
            #expect(try await store.counts() == (1, 2))
            #expect(try await store.profile(id: "u9") != nil)

            let m1 = EventRecord(userID: "u9", name: "open", timestampMillis: 5_000, messageID: "m-1")
            var m2 = m1
            m2.timestampMillis = 6_000
            #expect(try await store.insertEvents([m1, m2]) == BatchResult(inserted: 1, unchanged: 1))
        }
    }

    @Test(arguments: TestBackend.all)
    func factsGroupEventsBySecondsWithNumbers(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            _ = try await store.insertEvents([
                EventRecord(userID: "u1", name: "purchase", timestampMillis: 20_999, numbers: ["amount": 7]),
                EventRecord(userID: "u1", name: "view", timestampMillis: 15_000),
                EventRecord(userID: "u1", name: "purchase", timestampMillis: 10_500),
                EventRecord(userID: "u1", name: "purchase", timestampMillis: -1),
            ])
            let f = try #require(try await store.facts(id: "u1"))
            #expect(f.events["purchase"]?.timestamps == [-1, 10, 20])
            let amounts = try #require(f.events["purchase"]?.numbers["amount"])
            #expect(amounts[0].isNaN && amounts[1].isNaN && amounts[2] == 7)
            #expect(f.events["view"]?.timestamps == [15])
            #expect(f.allEventTimes == [-1, 10, 15, 20])
        }
    }

    @Test(arguments: TestBackend.all)
    func snapshotFillsEveryColumn(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            var u1 = UserUpsert(id: "u1")
            u1.timezone = "Asia/Shanghai"
            u1.createdAt = 100
            u1.birthday = CivilDate(year: 1970, month: 1, day: 2)
            u1.attributes = ["country": .string("CN"), "tags": .list(["a", "b"]), "vip": .bool(false)]
            var u2 = UserUpsert(id: "u2")
            u2.timezone = "Mars/Base"
            u2.lastSeenAt = 50
            u2.attributes = ["avg_order_value": .number(9.5), "signup": .timestamp(77)]
            var u3 = UserUpsert(id: "u3")
            u3.timezone = "Asia/Shanghai"
            u3.attributes = ["country": .string("HK"), "tags": .list([])]
            _ = try await store.upsertUsers([u1, u2, u3])
            _ = try await store.insertEvents([
                EventRecord(userID: "u3", name: "purchase", timestampMillis: 9_000, numbers: ["amount": 2]),
                EventRecord(userID: "u1", name: "purchase", timestampMillis: 5_000, numbers: ["amount": 1]),
                EventRecord(userID: "u1", name: "view", timestampMillis: 4_000),
                EventRecord(userID: "u1", name: "purchase", timestampMillis: 3_000),
                EventRecord(userID: "u1", name: "view", timestampMillis: 6_000),
            ])
            let s = try await store.snapshot(SnapshotRequirements(events: ["purchase", "signup_done"],
                eventNumbers: ["purchase": ["amount", "tax"]]))
            #expect(s.ids == ["u1", "u2", "u3"])
            #expect(s.timezoneNames == ["Asia/Shanghai", "Mars/Base"])
            #expect(s.timezone == [0, 1, 0])
            #expect(s.createdAt == [100, AudienceSnapshot.nullTime, AudienceSnapshot.nullTime])
            #expect(s.lastSeenImported == [AudienceSnapshot.nullTime, 50, AudienceSnapshot.nullTime])
            #expect(s.birthday == [86_400, AudienceSnapshot.nullTime, AudienceSnapshot.nullTime])
            let purchase = try #require(s.events["purchase"])
            #expect(purchase.offsets == [0, 2, 2, 3])
            #expect(purchase.timestamps == [3, 5, 9])
            let amount = try #require(purchase.numbers["amount"])
            #expect(amount[0].isNaN && amount[1] == 1 && amount[2] == 2)
            #expect(purchase.numbers["tax"]?.allSatisfy(\.isNaN) == true)
            #expect(s.events["signup_done"]?.offsets == [0, 0, 0, 0])
            #expect(s.events["view"] == nil)
            #expect(s.allEvents.offsets == [0, 4, 4, 5])
            #expect(s.allEvents.timestamps == [3, 4, 5, 6, 9])
            #expect(s.engagement.count == 3 && s.engagement.allSatisfy(\.isNaN))
            guard case .string(let codes, let dict) = s.attributes["country"] else { Issue.record("country"); return }
            #expect(codes.map { $0 < 0 ? nil : dict[Int($0)] } == ["CN", nil, "HK"])
            guard case .number(let aov) = s.attributes["avg_order_value"] else { Issue.record("aov"); return }
            #expect(aov[0].isNaN && aov[1] == 9.5 && aov[2].isNaN)
            guard case .bool(let vip) = s.attributes["vip"] else { Issue.record("vip"); return }
            #expect(vip == [0, -1, -1])
            guard case .timestamp(let signup) = s.attributes["signup"] else { Issue.record("signup"); return }
            #expect(signup == [AudienceSnapshot.nullTime, 77, AudienceSnapshot.nullTime])
            guard case .list(let off, let lc, let ld, let isNull) = s.attributes["tags"] else { Issue.record("tags"); return }
            #expect(off == [0, 2, 2, 2])
            #expect(lc.map { ld[Int($0)] } == ["a", "b"])
            #expect(isNull == [false, true, false])
        }
    }

    @Test(arguments: TestBackend.all)
    func preferencesAndSuppressionRoundTrip(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            #expect(try await store.preferences(userID: "u1") == Preferences())
            try await store.setPreference(userID: "u1", scope: .channel("sms"), optedOut: true, at: 10)
            try await store.setPreference(userID: "u1", scope: .topic("promotions"), optedOut: true, at: 20)
            try await store.setPreference(userID: "u1", scope: .topic("promotions"), optedOut: false, at: 30)
            let p = try await store.preferences(userID: "u1")
            #expect(p == Preferences(channels: ["sms": true], topics: ["promotions": false], updatedAt: 30))
            #expect(p.optOutReason(channel: "sms", topic: nil) == "opted_out:channel")
            #expect(p.optOutReason(channel: "email", topic: "promotions") == nil)
            try await store.setPreference(userID: "u1", scope: .global, optedOut: true, at: 40)
            #expect(try await store.preferences(userID: "u1").optOutReason(channel: "email", topic: nil) == "opted_out:global")

            try await store.suppress(Suppression(list: "bounces", address: "a@b.cn", reason: "hard bounce", createdAt: 5))
            #expect(try await store.isSuppressed(["x@y.z", "a@b.cn"]).map(\.list) == ["bounces"])
            #expect(try await store.unsuppress(list: "bounces", address: "a@b.cn"))
            #expect(try await store.isSuppressed(["a@b.cn"]).isEmpty)
        }
    }

    @Test(arguments: TestBackend.all)
    func changeSequenceGrowsWithEveryWrite(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let s0 = try await store.changeSequence()
            _ = try await store.upsertUsers([UserUpsert(id: "u1")])
            let s1 = try await feed(kind, "the user upsert") { try await store.changeSequence() } until: { $0 > s0 }
            try await store.setPreference(userID: "u1", scope: .global, optedOut: true, at: 1)
            let s2 = try await feed(kind, "the preference") { try await store.changeSequence() } until: { $0 > s1 }
            #expect(s0 < s1 && s1 < s2)
            let other = try backend.reopen()
            _ = try await other.insertEvents([EventRecord(userID: "u1", name: "x", timestampMillis: 1)])
            let s3 = try await feed(kind, "the other store's events") { try await store.changeSequence() } until: {
                $0 > s2
            }
            #expect(s3 > s2)
            let after = try await feed(kind, "the other store's events") {
                try await store.changes(since: s2, limit: 10)
            } until: { !$0.isEmpty }
            #expect(after.map(\.kind) == ["events"])
        }
    }

    /// Fails the batch with a trigger on the `events` table, which both schemas share (the trigger's text differs).
    @Test(arguments: TestBackend.all)
    func failedBatchLeavesNoRows(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            switch kind {
            case .sqlite:
                try await backend.runSQL(
                    """
                    CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.ts = 666
                    BEGIN SELECT RAISE(ABORT, 'boom'); END
                    """)
            case .postgres:
                try await backend.runSQL(
                    """
                    CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
                      BEGIN IF NEW.ts = 666 THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$
                    """)
                try await backend.runSQL(
                    "CREATE TRIGGER boom BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION boom()")
            }
            let batch = [
                EventRecord(userID: "a", name: "x", timestampMillis: 1),
                EventRecord(userID: "b", name: "y", timestampMillis: 666),
                EventRecord(userID: "c", name: "x", timestampMillis: 2),
            ]
            await #expect(throws: (any Error).self) { try await store.insertEvents(batch) }
            #expect(try await store.counts() == (0, 0))
            try await backend.runSQL(kind == .sqlite ? "DROP TRIGGER boom" : "DROP TRIGGER boom ON events")
            #expect(try await store.insertEvents(batch).inserted == 3)
            #expect(try await store.counts() == (3, 3))
        }
    }

    @Test(arguments: TestBackend.all)
    func messageIDsDeduplicateAcrossUsersAndTimes(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let first = try await store.insertEvents([
                EventRecord(userID: "u1", name: "x", timestampMillis: 1_000, messageID: "m-1"),
                EventRecord(userID: "u1", name: "x", timestampMillis: 1_000, propertiesJSON: "{\"a\":1}"),
                EventRecord(userID: "u1", name: "x", timestampMillis: 1_000, propertiesJSON: "{\"a\":2}"),
            ])
            #expect(first.inserted == 3)
            // The same message id again, from another user and a later time: a re-send, not a new event.
            let again = try await store.insertEvents([
                EventRecord(userID: "u2", name: "x", timestampMillis: 9_000, messageID: "m-1"),
                EventRecord(userID: "u1", name: "x", timestampMillis: 1_000, propertiesJSON: "{\"a\":2}"),
            ])
            #expect(again.inserted == 0)
            #expect(again.unchanged == 2)
            #expect(try await store.counts().events == 3)
        }
    }

    /// SQLite only: reads SQLite's query plan.
    @Test func eventReadsGoThroughTheIdentityIndex() async throws {
        let dir = try TempDir()
        let store = try makeStore(dir)
        _ = try await store.insertEvents([
            EventRecord(userID: "u1", name: "x", timestampMillis: 1_000, messageID: "m-1"),
            EventRecord(userID: "u1", name: "x", timestampMillis: 1_000, propertiesJSON: "{\"a\":1}"),
        ])
        // The identity index is the one the snapshot and facts(id:) read through.
        let plan = try await store.pool.read { db in
            try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN SELECT ts FROM events WHERE user_pk = 1 AND name_id = 1 ORDER BY ts"
            ).map { ($0["detail"] as String?) ?? "" }
        }
        #expect(plan.joined().contains("events_identity"), "\(plan)")
    }

    /// SQLite only: inspects how SQLite's bulk load drops and rebuilds its identity index.
    @Test func bulkLoadDefersTheIdentityIndexThenRemovesDuplicates() async throws {
        let dir = try TempDir()
        let store = try makeStore(dir)
        func hasIndex(_ s: SQLiteStore) async throws -> Bool {
            try await s.pool.read { db in
                try Bool.fetchOne(
                    db, sql: "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'events_identity'") ?? false
            }
        }
        _ = try await store.insertEvents([EventRecord(userID: "u", name: "x", timestampMillis: 1_000)])
        #expect(try await store.beginBulkLoad(estimatedEvents: 0) == false)
        #expect(try await store.beginBulkLoad(estimatedEvents: 1_000_000))
        #expect(try await hasIndex(store) == false)
        // A duplicate of a stored event and a duplicate inside the load both go in for now.
        _ = try await store.insertEvents([
            EventRecord(userID: "u", name: "x", timestampMillis: 1_000),
            EventRecord(userID: "u", name: "x", timestampMillis: 2_000),
            EventRecord(userID: "u", name: "x", timestampMillis: 2_000),
        ])
        #expect(try await store.counts().events == 4)
        // A crash here: the next open finishes the job.
        let reopened = try makeStore(dir)
        #expect(try await hasIndex(reopened))
        #expect(try await reopened.counts().events == 2)
        #expect(try await store.facts(id: "u")?.allEventTimes == [1, 2])
        #expect(try await store.endBulkLoad() == 0)
        #expect(try await hasIndex(store))
    }

    @Test(arguments: TestBackend.all)
    func bulkImportReportsDuplicatesAsUnchanged(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            var lines = ""
            for i in 0..<1_000 { lines += "{\"user_id\":\"u\(i % 7)\",\"event\":\"x\",\"timestamp\":\(1_700_000_000 + i)}\n" }
            lines += lines  // every event twice
            let path = try backend.dir.write("events.ndjson", lines)
            var importer = Importer(store: store, schema: AttributeSchema())
            importer.bulkLoadThreshold = 1
            let report = try await importer.importEvents(path: path, format: .ndjson)
            #expect(report.inserted == 1_000)
            #expect(report.unchanged == 1_000)
            #expect(try await store.counts().events == 1_000)
        }
    }

    /// SQLite only: `snapshotParts` is how SQLite spreads the snapshot's scan over its connections.
    @Test(arguments: [2, 3, 7])
    func snapshotSplitIntoPartsEqualsOneScan(parts: Int) async throws {
        let dir = try TempDir()
        let one = try SQLiteStore(path: dir.path("split.db"), schema: testSchema, snapshotParts: 1)
        var users: [UserUpsert] = []
        for i in 0..<20 { users.append(UserUpsert(id: "u\(i)")) }
        _ = try await one.upsertUsers(users)
        var events: [EventRecord] = []
        for i in 0..<20 where i % 3 != 0 {  // every third user has no events at all
            for k in 0..<(i % 5 + 1) {
                events.append(EventRecord(
                    userID: "u\(i)", name: k % 2 == 0 ? "purchase" : "open", timestampMillis: Int64(1_000 * (50 - k)),
                    propertiesJSON: "{\"amount\":\(k)}", numbers: k % 2 == 0 ? ["amount": Double(k)] : [:]))
            }
        }
        _ = try await one.insertEvents(events)
        let split = try SQLiteStore(path: dir.path("split.db"), schema: testSchema, snapshotParts: parts)
        let req = SnapshotRequirements(events: ["purchase", "open", "never"], eventNumbers: ["purchase": ["amount"]])
        let a = try await one.snapshot(req)
        let b = try await split.snapshot(req)
        #expect(a.ids == b.ids)
        #expect(a.allEvents.offsets == b.allEvents.offsets)
        #expect(a.allEvents.timestamps == b.allEvents.timestamps)
        #expect(a.allEvents.offsets.count == 21)
        for name in ["purchase", "open", "never"] {
            #expect(a.events[name]?.offsets == b.events[name]?.offsets, "\(name)")
            #expect(a.events[name]?.offsets.count == 21, "\(name)")
            #expect(a.events[name]?.timestamps == b.events[name]?.timestamps, "\(name)")
        }
        let amountsA = a.events["purchase"]?.numbers["amount"] ?? []
        let amountsB = b.events["purchase"]?.numbers["amount"] ?? []
        #expect(amountsA.count == a.events["purchase"]?.timestamps.count)
        #expect(amountsA.map { $0.isNaN ? -1 : $0 } == amountsB.map { $0.isNaN ? -1 : $0 })
    }
}
