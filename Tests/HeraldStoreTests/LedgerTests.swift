import Foundation
import GRDB
import HeraldCore
import Testing

@testable import HeraldLedger
@testable import HeraldSQLite

/// The ledger and bulk consent, against every backend in `TestBackend.all` from one body each.
@Suite("Ledger and bulk consent")
struct LedgerTests {
    static let t0: Int64 = 1_795_000_000

    static func entry(
        _ key: String, user: String = "u1", status: LedgerStatus = .scheduled, channel: ChannelKind = .email,
        at: Int64 = t0, topic: String? = "promotions", transactional: Bool = false, campaign: String = "promo"
    ) -> LedgerEntry {
        LedgerEntry(
            idempotencyKey: key, campaign: campaign, user: user, status: status, channel: channel,
            scheduledAt: at,
            createdAt: t0 - 60, topic: topic, transactional: transactional)
    }

    @Test(arguments: TestBackend.all)
    func recordIsIdempotentPerKeyAndKeepsHistory(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let ledger = backend.ledger
            #expect(
                try await ledger.record([Self.entry("promo/occ/u1/1"), Self.entry("promo/occ/u2/1", user: "u2")])
                    == 2)
            // The same key again (a re-plan, a second daemon): nothing changes.
            var again = Self.entry("promo/occ/u1/1")
            again.status = .suppressed
            #expect(try await ledger.record([again]) == 0)
            #expect(try await ledger.entry(key: "promo/occ/u1/1")?.status == .scheduled)

            #expect(
                try await ledger.updateStatus(
                    key: "promo/occ/u1/1", to: .sending, reason: nil, error: nil, providerMessageID: nil,
                    at: Self.t0))
            #expect(
                try await ledger.updateStatus(
                    key: "promo/occ/u1/1", to: .sent, reason: nil, error: nil, providerMessageID: "<m1@x>",
                    at: Self.t0 + 1))
            #expect(
                try await ledger.updateStatus(
                    key: "nope", to: .sent, reason: nil, error: nil, providerMessageID: nil, at: 0) == false)
            let e = try #require(try await ledger.entry(key: "promo/occ/u1/1"))
            #expect(
                e.status == .sent && e.attempts == 1 && e.providerMessageID == "<m1@x>"
                    && e.updatedAt == Self.t0 + 1)
            let history = try await ledger.history(key: "promo/occ/u1/1")
            #expect(history.map(\.to) == [.scheduled, .sending, .sent])
            #expect(history.map(\.from) == [nil, .scheduled, .sending])
            #expect(try await ledger.entries(campaign: "promo", user: nil, limit: 10).count == 2)
            #expect(try await ledger.entries(campaign: nil, user: "u2", limit: 10).map(\.user) == ["u2"])
        }
    }

    /// Writes to the history table behind the ledger's back (both schemas name it `ledger_history`).
    @Test(arguments: TestBackend.all)
    func historyIsAppendOnly(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            _ = try await backend.ledger.record([Self.entry("k")])
            try await backend.runSQL("SELECT count(*) FROM ledger_history")  // the table is there to refuse
            await #expect(throws: (any Error).self) {
                try await backend.runSQL("UPDATE ledger_history SET to_status = 'sent'")
            }
            await #expect(throws: (any Error).self) {
                try await backend.runSQL("DELETE FROM ledger_history")
            }
            #expect(try await backend.ledger.history(key: "k").map(\.to) == [.scheduled])
        }
    }

    @Test(arguments: TestBackend.all)
    func sendHistoryCountsOnlySendsInTheWindow(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let ledger = backend.ledger
            _ = try await ledger.record([
                Self.entry("a", at: Self.t0), Self.entry("b", status: .delivered, at: Self.t0 - 100),
                Self.entry("c", status: .suppressed, at: Self.t0), Self.entry("d", status: .holdout, at: Self.t0),
                Self.entry("e", status: .failed, at: Self.t0), Self.entry("f", at: Self.t0 - 10_000),
                Self.entry("g", user: "u2", channel: .sms, at: Self.t0, topic: nil, transactional: true),
            ])
            let h = try await ledger.sendHistory(since: Self.t0 - 100)
            #expect(h["u1"]?.map(\.at).sorted() == [Self.t0 - 100, Self.t0])
            #expect(
                h["u2"] == [
                    SendRecord(at: Self.t0, channel: .sms, topic: nil, campaign: "promo", transactional: true)
                ])
        }
    }

    /// SQLite only: a read-only `SQLiteLedger` (the CLI's) and SQLite's migrators on one file.
    @Test func readOnlyLedgerOnAFreshStoreWritesNothing() async throws {
        let dir = try TempDir()
        let store = try makeStore(dir)
        let ledger = try SQLiteLedger(pool: store.pool, migrate: false)
        #expect(try await ledger.sendHistory(since: 0).isEmpty)
        #expect(try await ledger.entry(key: "x") == nil)
        let exists = try await store.pool.read { try $0.tableExists("ledger") }
        #expect(!exists)
        // The audience migrator still opens a store whose file also holds the ledger's migration.
        _ = try SQLiteLedger(pool: store.pool)
        let reopened = try SQLiteStore(path: dir.path("audience.sqlite"), schema: testSchema)
        #expect(try await reopened.counts().users == 0)
    }

    @Test(arguments: TestBackend.all)
    func consentBookLoadsEveryoneInBulk(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            _ = try await store.upsertUsers([UserUpsert(id: "u1"), UserUpsert(id: "u2"), UserUpsert(id: "u3")])
            try await store.setPreference(userID: "u1", scope: .channel("sms"), optedOut: true, at: 1)
            try await store.setPreference(userID: "u1", scope: .topic("promotions"), optedOut: true, at: 2)
            try await store.setPreference(userID: "u2", scope: .global, optedOut: true, at: 3)
            try await store.setPreference(userID: "u3", scope: .topic("news"), optedOut: true, at: 4)
            try await store.setPreference(userID: "u3", scope: .topic("news"), optedOut: false, at: 5)
            try await store.suppress(Suppression(list: "bounces", address: "a@example.com", createdAt: 1))
            try await store.suppress(Suppression(list: "complaints", address: "a@example.com", createdAt: 1))
            let (consent, suppressions) = try await store.consentBook()
            #expect(consent["u1"] == ConsentState(channels: [.sms], topics: ["promotions"]))
            #expect(consent["u2"] == ConsentState(global: true))
            #expect(consent["u3"] == nil)
            #expect(suppressions["a@example.com"] == ["bounces", "complaints"])
            #expect(try await store.preferences(userID: "u1").consentState == consent["u1"])
        }
    }
}

@Suite("Ledger as the pipeline's sink")
struct LedgerSinkTests {
    /// Plan, record, load the ledger back: the next occurrence is capped by what the first one scheduled.
    @Test(arguments: TestBackend.all)
    func capsReadWhatThePipelineRecorded(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let ledger = backend.ledger
            var u = UserUpsert(id: "u1")
            u.email = "u1@example.com"
            var v = UserUpsert(id: "u2")
            v.email = "not-an-email"
            _ = try await store.upsertUsers([u, v])
            let now: Int64 = 1_795_000_000
            let (segment, _) = SegmentCompiler.compile(
                SegmentSource(text: "id != \"\"", origin: SourceOrigin(file: "t")), schema: testSchema,
                catalog: .empty)
            let campaign = Campaign(
                id: "weekly", name: "Weekly", status: .active, topic: "news", priority: 50, transactional: false,
                audience: Campaign.Audience(segment: try #require(segment)), trigger: .api,
                sendTime: Campaign.SendTime(strategy: .immediate, within: 3600),
                limits: Campaign.Limits(perUser: Campaign.PerUserLimit(max: 1, per: 7 * 86_400)), experiment: nil,
                conversion: nil,
                message: Campaign.Message(
                    channel: .email, email: Campaign.EmailBody(subject: MessageTemplate.parse("Hi").0)),
                file: "weekly.yaml")
            func plan(at t: Int64) async throws -> [Decision] {
                let snapshot = try await store.snapshot(SnapshotRequirements())
                let env = EvaluationEnvironment(now: t)
                let inputs = PlanningInputs(
                    snapshot: snapshot, population: PopulationStats.compute(snapshot, env), environment: env,
                    policy: PolicyConfig(), history: try await ledger.sendHistory(since: t - 30 * 86_400))
                return DecisionPipeline(campaign: campaign, occurrence: Occurrence(start: t), inputs: inputs)
                    .plan()
            }
            let first = try await plan(at: now)
            #expect(first.map(\.reason) == [nil, "invalid_contact"])
            #expect(try await ledger.record(first, campaign: campaign, at: now) == 2)
            #expect(try await ledger.record(first, campaign: campaign, at: now) == 0)  // re-planned: nothing twice
            let row = try #require(try await ledger.entry(key: first[0].idempotencyKey()))
            #expect(row.status == .scheduled && row.scheduledAt == now && row.address == "u1@example.com")
            #expect(try await ledger.entry(key: first[1].idempotencyKey())?.reason == "invalid_contact")
            let second = try await plan(at: now + 86_400)
            #expect(second.first?.reason == "cap:campaign/7d")
            #expect(try await plan(at: now + 7 * 86_400 + 1).first?.outcome == .send)
        }
    }
}
