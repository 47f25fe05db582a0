import Foundation
import HeraldCore
import Testing

@testable import HeraldLedger
@testable import HeraldIngest

/// What the store keeps for event triggers and event-created users, on both stores: the events an API call
/// stored whose planning has not run yet, and `created_at` from a user's earliest event (docs/api.md).
@Suite struct EventPlanningStoreTests {
    static let t: Int64 = 1_795_000_000

    /// Only new events named in `awaitingPlanning` are recorded, until `markPlanned`; imported events never are.
    @Test(arguments: TestBackend.all)
    func onlyNewTriggeringEventsAwaitPlanningUntilMarked(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let path = try backend.dir.write(
                "history.ndjson", #"{"user_id":"old","event":"signed_up","timestamp":\#(Self.t)}"#)
            _ = try await Importer(store: store, schema: testSchema).importEvents(path: path, format: .ndjson)
            #expect(try await store.eventsAwaitingPlanning(limit: 10).isEmpty)

            let ms = Self.t * 1000
            let batch = [
                EventRecord(userID: "a", name: "signed_up", timestampMillis: ms + 2000),
                EventRecord(userID: "b", name: "view", timestampMillis: ms),
                EventRecord(userID: "c", name: "signed_up", timestampMillis: ms + 1000, messageID: "m1"),
            ]
            let (result, new) = try await store.insertEventsReportingNew(
                batch, awaitingPlanning: ["signed_up"])
            #expect(result.inserted == 3 && new == [0, 1, 2])
            let pending = try await store.eventsAwaitingPlanning(limit: 10)
            try #require(pending.map(\.userID) == ["c", "a"])  // oldest first, only the triggering name
            #expect(pending.map(\.timestampMillis) == [ms + 1000, ms + 2000])
            // A retry stores nothing new, so records nothing new.
            let (_, again) = try await store.insertEventsReportingNew(batch, awaitingPlanning: ["signed_up"])
            #expect(again.isEmpty)
            try await store.markPlanned([pending[0]])
            #expect(try await store.eventsAwaitingPlanning(limit: 10).map(\.userID) == ["a"])
            try await store.markPlanned(pending)
            #expect(try await store.eventsAwaitingPlanning(limit: 10).isEmpty)
            // Another process sees the same record.
            _ = try await store.insertEventsReportingNew(
                [EventRecord(userID: "d", name: "signed_up", timestampMillis: ms)],
                awaitingPlanning: ["signed_up"])
            #expect(try await backend.reopen().eventsAwaitingPlanning(limit: 10).map(\.userID) == ["d"])
        }
    }

    /// The migration of an existing store creates the record empty: the history already stored never triggers,
    /// and users already stored keep their `created_at`.
    @Test(arguments: TestBackend.all)
    func migratingAnExistingStoreMakesNoHistoryTrigger(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            var u = UserUpsert(id: "imported")
            u.createdAt = .some(Self.t - 86_400)
            _ = try await backend.store.upsertUsers([u])
            _ = try await backend.store.insertEvents(
                (0..<50).map {
                    EventRecord(userID: "u\($0 % 7)", name: "signed_up", timestampMillis: Self.t * 1000)
                })
            // Back to the schema before the migration (the record and the column gone, the migrations not run).
            switch kind {
            case .sqlite:
                try await backend.runSQL(
                    """
                    DELETE FROM grdb_migrations WHERE identifier IN ('v3-events-awaiting-planning', 'v4-users-created-by-event');
                    DROP TABLE events_awaiting_planning;
                    ALTER TABLE users DROP COLUMN created_by_event;
                    """)
            case .postgres:
                try await backend.runSQL(
                    "DELETE FROM herald_migrations WHERE name IN ('audience-v2.00-events-awaiting-planning', 'audience-v2.01-users-created-by-event')")
                try await backend.runSQL("DROP TABLE events_awaiting_planning")
                try await backend.runSQL("ALTER TABLE users DROP COLUMN created_by_event")
            }
            let migrated = try await backend.migrateAgain()
            #expect(try await migrated.eventsAwaitingPlanning(limit: 100).isEmpty)
            #expect(try await migrated.profile(id: "imported")?.createdAt == Self.t - 86_400)
            // Old event-created users are not marked as such: a new, older event does not move them.
            _ = try await migrated.insertEvents([EventRecord(userID: "u1", name: "x", timestampMillis: 0)])
            #expect(try await migrated.profile(id: "u1")?.createdAt == Self.t)
        }
    }

    /// A user an event creates is `new`: `created_at` is its earliest event, moved back by an older one stored
    /// later; a `created_at` given by a profile write stays as written.
    @Test(arguments: TestBackend.all)
    func eventCreatedUsersTakeTheirEarliestEventAsCreatedAt(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let ms = Self.t * 1000
            _ = try await store.insertEvents([
                EventRecord(userID: "tracked", name: "view", timestampMillis: ms + 5_000),
                EventRecord(userID: "tracked", name: "signed_up", timestampMillis: ms + 1_500),
                EventRecord(userID: "other", name: "view", timestampMillis: ms),
                EventRecord(userID: "tracked", name: "view", timestampMillis: ms + 9_000),
            ])
            #expect(try await store.profile(id: "tracked")?.createdAt == Self.t + 1)
            // An older event stored later moves it back; a newer one does not.
            _ = try await store.insertEvents([
                EventRecord(userID: "tracked", name: "view", timestampMillis: ms - 60_000)
            ])
            _ = try await store.insertEvents([
                EventRecord(userID: "tracked", name: "view", timestampMillis: ms + 99_000)
            ])
            #expect(try await store.profile(id: "tracked")?.createdAt == Self.t - 60)

            // A created_at written by a profile write is the user's own: events no longer move it.
            var given = UserUpsert(id: "tracked")
            given.createdAt = .some(Self.t)
            #expect(try await store.upsertUsers([given]).updated == 1)
            _ = try await store.insertEvents([
                EventRecord(userID: "tracked", name: "view", timestampMillis: 0)
            ])
            #expect(try await store.profile(id: "tracked")?.createdAt == Self.t)
            // A user a profile write created keeps what it was given (here nothing).
            _ = try await store.upsertUsers([UserUpsert(id: "identified")])
            _ = try await store.insertEvents([
                EventRecord(userID: "identified", name: "view", timestampMillis: ms)
            ])
            #expect(try await store.profile(id: "identified")?.createdAt == nil)

            // lifecycle == "new" a day later, for the user only an event created.
            let (segment, diagnostics) = SegmentCompiler.compile(
                SegmentSource(text: #"lifecycle == "new""#, origin: SourceOrigin(file: "t")),
                schema: testSchema,
                catalog: .empty)
            let compiled = try #require(segment, "\(diagnostics)")
            let snapshot = try await store.snapshot(compiled.requirements)
            let env = EvaluationEnvironment(now: Self.t + 86_400)
            let matches = compiled.evaluate(snapshot, env, population: PopulationStats.compute(snapshot, env))
            let members = Set(zip(snapshot.ids, matches).filter(\.1).map(\.0))
            #expect(members == ["tracked", "other"])
        }
    }

    /// Two processes on one store, and a store that read every user at once (a batch of 1,000 events or more)
    /// agree: the earliest event wins, and a profile write's `created_at` stays.
    @Test(arguments: TestBackend.all)
    func createdAtFollowsTheEarliestEventAcrossProcesses(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let a = backend.store
            let t = Self.t
            func event(_ user: String, _ at: Int64) -> EventRecord {
                EventRecord(userID: user, name: "view", timestampMillis: at * 1000)
            }
            _ = try await a.insertEvents([event("x", t), event("y", t)])
            let b = try backend.reopen()
            var given = UserUpsert(id: "y")
            given.createdAt = .some(t)
            _ = try await b.upsertUsers([given])
            _ = try await b.insertEvents([event("x", t - 50)])
            // `a` last saw both as event-created at t.
            _ = try await a.insertEvents([event("x", t - 20), event("y", t - 70)])
            #expect(try await a.profile(id: "x")?.createdAt == t - 50)
            #expect(try await a.profile(id: "y")?.createdAt == t)
            let c = try backend.reopen()
            _ = try await c.insertEvents((0..<1_000).map { event("bulk\($0)", t) } + [event("x", t - 90), event("y", t - 90)])
            #expect(try await c.profile(id: "x")?.createdAt == t - 90)
            #expect(try await c.profile(id: "y")?.createdAt == t)
            #expect(try await c.profile(id: "bulk7")?.createdAt == t)
        }
    }
}
