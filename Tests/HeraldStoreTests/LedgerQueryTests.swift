import Foundation
import GRDB
import HeraldCore
import Testing

@testable import HeraldPostgres
@testable import HeraldLedger
@testable import HeraldSQLite
import struct PostgresNIO.PostgresQuery

/// The ledger's reads for `herald logs` and `herald stats`: filters, the follow cursor, the funnel and the lift.
///
/// Against every backend in `TestBackend.all` from one body each, except the test of SQLite's migrations.
@Suite("Ledger queries")
struct LedgerQueryTests {
    /// 2026-11-18T11:06:40Z, when the seeded rows are decided.
    static let t0: Int64 = 1_795_000_000

    /// A row with an address, decided (and last changed) at `at`.
    static func row(
        _ key: String, campaign: String = "promo", user: String, status: LedgerStatus = .scheduled,
        at: Int64 = t0, reason: String? = nil, variant: String? = nil, sentAt: Int64? = nil,
        triggerAt: Int64? = nil
    ) -> LedgerEntry {
        var e = LedgerEntry(
            idempotencyKey: key, campaign: campaign, user: user, status: status, channel: .email,
            scheduledAt: at,
            createdAt: at)
        e.address = "\(user)@example.com"
        e.reason = reason
        e.variant = variant
        e.sentAt = sentAt
        e.triggerAt = triggerAt
        return e
    }

    /// Moves `key` to `status` at `at`.
    static func move(_ ledger: any DispatchLedger, _ key: String, _ status: LedgerStatus, at: Int64) async throws {
        let moved = try await ledger.updateStatus(
            key: key, to: status, reason: nil, error: nil, providerMessageID: nil, at: at)
        #expect(moved)
    }

    /// Four rows over two campaigns; promo/u1 then moves to sending and sent (six history rows in all).
    static func seed(_ ledger: any DispatchLedger) async throws {
        _ = try await ledger.record([
            row("promo/o1/u1/1", user: "u1", at: t0),
            row("promo/o1/u2/1", user: "u2", status: .suppressed, at: t0 + 10, reason: "opted_out:topic"),
            row("news/o1/u1/1", campaign: "news", user: "u1", at: t0 + 20),
            row("news/o1/u3/1", campaign: "news", user: "u3", status: .holdout, at: t0 + 30),
        ])
        try await move(ledger, "promo/o1/u1/1", .sending, at: t0 + 100)
        try await move(ledger, "promo/o1/u1/1", .sent, at: t0 + 101)
    }

    @Test(arguments: TestBackend.all)
    func filtersCombineAndTheWindowIsTheNewestRowsOldestFirst(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let ledger = backend.ledger
            try await Self.seed(ledger)
            /// The keys of the window, in order.
            func keys(_ f: LedgerFilter, limit: Int? = nil) async throws -> [String] {
                try await ledger.window(f, limit: limit).items.map(\.idempotencyKey)
            }
            #expect(
                try await keys(LedgerFilter()) == [
                    "promo/o1/u2/1", "news/o1/u1/1", "news/o1/u3/1", "promo/o1/u1/1",
                ])
            #expect(try await keys(LedgerFilter(), limit: 2) == ["news/o1/u3/1", "promo/o1/u1/1"])
            #expect(try await keys(LedgerFilter(campaign: "promo")) == ["promo/o1/u2/1", "promo/o1/u1/1"])
            #expect(try await keys(LedgerFilter(user: "u1")) == ["news/o1/u1/1", "promo/o1/u1/1"])
            #expect(try await keys(LedgerFilter(status: .sent)) == ["promo/o1/u1/1"])
            #expect(try await keys(LedgerFilter(status: .scheduled)) == ["news/o1/u1/1"])
            // `since` is inclusive, on the time of the row's last change.
            #expect(
                try await keys(LedgerFilter(since: Self.t0 + 20)) == [
                    "news/o1/u1/1", "news/o1/u3/1", "promo/o1/u1/1",
                ])
            #expect(
                try await keys(LedgerFilter(campaign: "news", user: "u1", since: Self.t0 + 20)) == [
                    "news/o1/u1/1"
                ])
            #expect(try await keys(LedgerFilter(campaign: "news", user: "u1", since: Self.t0 + 21)).isEmpty)
            #expect(try await keys(LedgerFilter(campaign: "promo", status: .holdout)).isEmpty)
            let sent = try #require(try await ledger.window(LedgerFilter(status: .sent), limit: nil).items.first)
            #expect(sent.attempts == 1 && sent.updatedAt == Self.t0 + 101 && sent.address == "u1@example.com")
            // The whole history from the start: six changes in commit order, each with its history row's id.
            let history = try await Self.history(kind, ledger, count: 6)
            #expect(history.count == 6)
            #expect(
                history.map(\.transition.to) == [.scheduled, .suppressed, .scheduled, .holdout, .sending, .sent])
            let sequences = history.map(\.sequence)
            #expect(sequences == sequences.sorted() && Set(sequences).count == 6)
            #expect(try await Self.historyIDs(backend) == sequences)
            // The window's cursor accounts for everything committed before the window was read, filtered out or
            // not: following from it returns nothing until a later change, then exactly that change.
            let none = try await ledger.window(LedgerFilter(campaign: "none"), limit: nil)
            #expect(none.items.isEmpty)
            #expect(try await ledger.changes(after: none.cursor, LedgerFilter(), limit: 100).items.isEmpty)
            try await Self.move(ledger, "news/o1/u1/1", .sending, at: Self.t0 + 102)
            let later = try await feed(kind, "the move to sending") {
                try await ledger.changes(after: none.cursor, LedgerFilter(), limit: 100).items
            } until: { !$0.isEmpty }
            #expect(later.map(\.entry.idempotencyKey) == ["news/o1/u1/1"])
            #expect(later.map(\.transition.from) == [.scheduled] && later.map(\.transition.to) == [.sending])
            #expect(try await ledger.campaigns() == ["news", "promo"])
        }
    }

    /// The whole history (from cursor 0, unfiltered), once it holds at least `count` changes (see `feed`).
    static func history(_ kind: TestBackend, _ ledger: any DispatchLedger, count: Int) async throws
        -> [LedgerChange]
    {
        try await feed(kind, "\(count) history rows") {
            try await ledger.changes(after: 0, LedgerFilter(), limit: 1000).items
        } until: { $0.count >= count }
    }

    /// The ids of the backend's history rows, ascending, read from its tables.
    static func historyIDs(_ backend: Backend) async throws -> [Int64] {
        if let sqlite = backend.store as? SQLiteStore {
            return try await sqlite.pool.read { try Int64.fetchAll($0, sql: "SELECT id FROM ledger_history ORDER BY id") }
        }
        let postgres = try #require(backend.ledger as? PostgresLedger)
        return try await postgres.database.connection { conn in
            try await conn.query("SELECT id FROM ledger_history ORDER BY id", logger: postgres.database.logger)
                .collect().map { try $0.decode(Int64.self) }
        }
    }

    /// (key, from, to, reason) of each change, to compare feeds by what changed rather than by numbers.
    static func described(_ changes: [LedgerChange]) -> [String] {
        changes.map {
            "\($0.entry.idempotencyKey) \($0.transition.from?.rawValue ?? "-")>\($0.transition.to.rawValue)"
                + " \($0.transition.reason ?? "-")"
        }
    }

    /// The cursor is opaque: these checks only pass cursors back to `changes(after:)` and look at what comes
    /// back (by key, from, to and reason, in commit order), the same on every backend.
    @Test(arguments: TestBackend.all)
    func theFollowCursorSeesEachLaterChangeOnceAndSkipsFilteredOnes(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let ledger = backend.ledger
            try await Self.seed(ledger)
            let seeded = try await Self.history(kind, ledger, count: 6)
            #expect(seeded.count == 6)
            let promo = LedgerFilter(campaign: "promo")
            let start = try await ledger.window(promo, limit: 10).cursor
            // Idle: nothing after the window, and the idle page's cursor, passed back, still gives nothing new.
            let idle = try await ledger.changes(after: start, promo, limit: 1000)
            #expect(idle.items.isEmpty)
            #expect(try await ledger.changes(after: idle.cursor, promo, limit: 1000).items.isEmpty)
            #expect(try await ledger.changes(after: idle.cursor, LedgerFilter(), limit: 1000).items.isEmpty)

            try await Self.move(ledger, "news/o1/u1/1", .sending, at: Self.t0 + 200)
            try await Self.move(ledger, "promo/o1/u1/1", .delivered, at: Self.t0 + 201)
            let page = try await feed(kind, "the promo delivery") {
                try await ledger.changes(after: idle.cursor, promo, limit: 1000)
            } until: { !$0.items.isEmpty }
            let change = try #require(page.items.first)
            #expect(page.items.count == 1)
            #expect(change.transition.from == .sent && change.transition.to == .delivered)
            #expect(change.transition.at == Self.t0 + 201 && change.entry.user == "u1")
            #expect(change.entry.idempotencyKey == "promo/o1/u1/1" && change.entry.status == .delivered)
            // The sequence is for display: the history row's id, newer than the seeded ones.
            #expect(change.sequence > (seeded.map(\.sequence).max() ?? .max))
            #expect(try await ledger.changes(after: page.cursor, promo, limit: 1000).items.isEmpty)

            // A new row arrives as its creation; the status filter is the status changed to.
            _ = try await ledger.record([Self.row("promo/o2/u4/1", user: "u4", at: Self.t0 + 300)])
            let created = try await feed(kind, "the new row") {
                try await ledger.changes(after: page.cursor, promo, limit: 1000).items
            } until: { !$0.isEmpty }
            #expect(created.map(\.entry.idempotencyKey) == ["promo/o2/u4/1"])
            #expect(created.map(\.transition.from) == [nil] && created.map(\.transition.to) == [.scheduled])
            let sending = try await ledger.changes(after: start, LedgerFilter(status: .sending), limit: 1000).items
            #expect(sending.map(\.entry.idempotencyKey) == ["news/o1/u1/1"])

            // Everything after the window, in commit order; small pages return each change once, in the same
            // order, and the last page's cursor gives nothing more.
            let expected = [
                "news/o1/u1/1 scheduled>sending -", "promo/o1/u1/1 sent>delivered -",
                "promo/o2/u4/1 ->scheduled -",
            ]
            let after = try await ledger.changes(after: start, LedgerFilter(), limit: 1000)
            #expect(Self.described(after.items) == expected)
            for limit in [1, 2] {
                var cursor = start
                var paged: [LedgerChange] = []
                for _ in 0..<10 {
                    let p = try await ledger.changes(after: cursor, LedgerFilter(), limit: limit)
                    #expect(p.items.count <= limit)
                    if p.items.isEmpty { break }
                    paged += p.items
                    cursor = p.cursor
                }
                #expect(Self.described(paged) == expected, "pages of \(limit)")
                #expect(try await ledger.changes(after: cursor, LedgerFilter(), limit: limit).items.isEmpty)
            }

            // Each change carries the attempts made by then, not the row's current count.
            let story = try await ledger.changes(
                after: 0, LedgerFilter(campaign: "promo", user: "u1"), limit: 1000
            ).items
            #expect(story.map(\.transition.to) == [.scheduled, .sending, .sent, .delivered])
            #expect(story.map(\.attempts) == [0, 1, 1, 1])
            _ = try await ledger.record([Self.row("promo/o1/u9/1", user: "u9", at: Self.t0 + 210)])
            for (i, status) in [LedgerStatus.sending, .failed, .sending, .dead].enumerated() {
                try await Self.move(ledger, "promo/o1/u9/1", status, at: Self.t0 + 211 + Int64(i))
            }
            let retried = try await feed(kind, "u9's five changes") {
                try await ledger.changes(after: after.cursor, LedgerFilter(user: "u9"), limit: 1000).items
            } until: { $0.count >= 5 }
            #expect(retried.map(\.transition.to) == [.scheduled, .sending, .failed, .sending, .dead])
            #expect(retried.map(\.attempts) == [0, 1, 1, 2, 2])
            #expect(retried.allSatisfy { $0.entry.attempts == 2 })
        }
    }

    /// SQLite only: a read-only `SQLiteLedger` while SQLite's ledger migrations are half applied.
    @Test func aStoreWithoutALedgerReadsEmptyUntilTheDaemonCreatesIt() async throws {
        let dir = try TempDir()
        let store = try makeStore(dir)
        let reader = try SQLiteLedger(pool: store.pool, migrate: false)
        let window = try await reader.window(LedgerFilter(), limit: nil)
        #expect(window.items.isEmpty && window.cursor == 0)
        #expect(try await reader.changes(after: 0, LedgerFilter()).items.isEmpty)
        #expect(try await reader.funnels(campaign: nil, goals: [:]).isEmpty)
        #expect(try await reader.campaigns().isEmpty)
        // A daemon starting meanwhile: ledger-v1 committed, ledger-v2's columns not yet there.
        try SQLiteLedger.migrator.migrate(store.pool, upTo: "ledger-v1")
        try await store.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO ledger(idempotency_key, campaign, user, status, created_at, updated_at)
                    VALUES ('old/o/u0/1', 'old', 'u0', 'scheduled', 1, 1)
                    """)
            try db.execute(
                sql: "INSERT INTO ledger_history(ledger_id, to_status, at) VALUES (1, 'scheduled', 1)")
        }
        #expect(try await reader.window(LedgerFilter(), limit: nil).items.isEmpty)
        #expect(try await reader.changes(after: 0, LedgerFilter()).cursor == 0)
        #expect(try await reader.funnels(campaign: nil, goals: [:]).isEmpty)
        let writer = try SQLiteLedger(pool: store.pool)
        _ = try await writer.record([Self.row("promo/o1/u1/1", user: "u1")])
        #expect(try await reader.changes(after: 0, LedgerFilter()).items.map(\.entry.user) == ["u0", "u1"])
    }

    @Test(arguments: TestBackend.all)
    func theFunnelCountsEveryStatusReasonAndTrackingTime(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let ledger = backend.ledger
            let t = Self.t0
            var rows: [LedgerEntry] = [
                Self.row("p/1", user: "u1", status: .delivered, sentAt: t),
                Self.row("p/2", user: "u2", status: .sent, sentAt: t),
                Self.row("p/3", user: "u3", status: .bounced, sentAt: t),
                Self.row("p/4", user: "u4", status: .failed),
                Self.row("p/5", user: "u5", status: .dead),
                Self.row("p/6", user: "u6", status: .suppressed, reason: "opted_out:topic"),
                Self.row("p/7", user: "u7", status: .suppressed, reason: "opted_out:topic"),
                Self.row("p/8", user: "u8", status: .suppressed, reason: "cap:any/7d"),
                Self.row("p/9", user: "u9", status: .holdout),
                Self.row("p/10", user: "u10", status: .expired, reason: "window_missed"),
                Self.row("p/11", user: "u11", status: .cancelled, reason: "cancelled:purchase"),
                Self.row("p/12", user: "u12", status: .scheduled),
                Self.row("p/13", user: "u13", status: .sending),
                // Accepted, then a delivery report said it failed: sent, and failed.
                Self.row("p/14", user: "u14", status: .failed, sentAt: t),
            ]
            rows.append(Self.row("other/1", campaign: "other", user: "u1"))
            _ = try await ledger.record(rows)
            #expect(try await ledger.markOpened(key: "p/1", at: t + 60))
            #expect(try await ledger.markOpened(key: "p/2", at: t + 60))
            #expect(try await ledger.markClicked(key: "p/1", at: t + 90))
            let all = try await ledger.funnels(campaign: nil, goals: [:])
            #expect(all.map(\.campaign) == ["other", "promo"])
            let f = try #require(try await ledger.funnels(campaign: "promo", goals: [:]).first)
            #expect(f.decisions == 14 && f.sent == 4 && f.pending == 2)
            #expect(
                f.count(.delivered) == 1 && f.count(.bounced) == 1 && f.count(.failed) == 2 && f.count(.dead) == 1
            )
            #expect(f.count(.holdout) == 1 && f.count(.expired) == 1 && f.count(.cancelled) == 1)
            #expect(f.count(.suppressed) == 3 && f.suppressedReasons == ["opted_out:topic": 2, "cap:any/7d": 1])
            #expect(f.opened == 2 && f.clicked == 1)
            #expect(f.converted == nil)
            // A holdout makes an experiment: the holdout, then everyone else (no variants) as one arm.
            #expect(
                f.arms == [
                    ExperimentArm(isHoldout: true, variant: nil, users: 1, converted: nil),
                    ExperimentArm(isHoldout: false, variant: nil, users: 13, converted: nil),
                ])
            #expect(try await ledger.funnels(campaign: "other", goals: [:]).first?.arms == [])
        }
    }

    @Test(arguments: TestBackend.all)
    func conversionsCountAtTheExactEdgesOfTheWindow(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let ledger = backend.ledger
            let s = Self.t0
            let hour: Int64 = 3600
            let trigger = s - 2 * hour
            _ = try await ledger.record([
                Self.row("p/o1/e1", user: "e1", status: .delivered, variant: "a", sentAt: s, triggerAt: trigger),
                Self.row("p/o1/e2", user: "e2", status: .sent, variant: "a", sentAt: s, triggerAt: trigger),
                Self.row("p/o1/e3", user: "e3", status: .sent, variant: "a", sentAt: s, triggerAt: trigger),
                Self.row("p/o1/e4", user: "e4", status: .sent, variant: "a", sentAt: s, triggerAt: trigger),
                Self.row("p/o1/e5", user: "e5", status: .sent, variant: "a", sentAt: s, triggerAt: trigger),
                // A later occurrence for e1, not converted: e1 is still one converted user of arm a.
                Self.row(
                    "p/o2/e1", user: "e1", status: .sent, variant: "a", sentAt: s + 86_400, triggerAt: s + 86_000),
                // Suppressed in arm a: counted in the arm (intent to treat) from its trigger, not in the funnel.
                Self.row(
                    "p/o1/s1", user: "s1", status: .suppressed, reason: "opted_out:topic", variant: "a",
                    triggerAt: trigger),
                Self.row("p/o1/h1", user: "h1", status: .holdout, triggerAt: trigger),
                Self.row("p/o1/h2", user: "h2", status: .holdout, triggerAt: trigger),
            ])
            /// An event (a purchase unless named).
            func purchase(_ user: String, _ ms: Int64, name: String = "purchase") -> EventRecord {
                EventRecord(userID: user, name: name, timestampMillis: ms)
            }
            _ = try await store.insertEvents([
                purchase("e1", s * 1000),  // at the send: counts
                purchase("e2", (s + hour) * 1000 + 999),  // the last second of the window: counts
                purchase("e3", (s + hour + 1) * 1000),  // one second later: does not
                purchase("e4", s * 1000 - 1),  // just before the send: does not
                purchase("e5", s * 1000 + 5, name: "view"),  // another event: does not
                purchase("s1", (trigger + hour) * 1000),  // the end of the window from the trigger: counts
                purchase("h1", trigger * 1000),  // the holdout from its trigger: counts
                purchase("h2", s * 1000),  // after the holdout's window: does not
            ])
            let goal = Campaign.Conversion(event: "purchase", within: hour)
            let f = try #require(try await ledger.funnels(campaign: "promo", goals: ["promo": goal]).first)
            #expect(f.decisions == 9 && f.sent == 6)
            #expect(f.converted == 2)
            #expect(
                f.arms == [
                    ExperimentArm(isHoldout: true, variant: nil, users: 2, converted: 1),
                    ExperimentArm(isHoldout: false, variant: "a", users: 6, converted: 3),
                ])
            // A goal whose event was never seen converts nobody (zero, not unknown).
            let never = Campaign.Conversion(event: "signup", within: hour)
            let g = try #require(try await ledger.funnels(campaign: "promo", goals: ["promo": never]).first)
            #expect(g.converted == 0 && g.arms.map(\.converted) == [0, 0])
        }
    }

    // Newcombe (1998), Table II (a): 56/70 − 48/80 = 0.2000, method 10 interval 0.0524 to 0.3339.
    @Test(arguments: TestBackend.all)
    func theFunnelsLiftMatchesNewcombesPublishedExample(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let ledger = backend.ledger
            let s = Self.t0
            var rows: [LedgerEntry] = []
            var events: [EventRecord] = []
            for i in 0..<70 {
                rows.append(
                    Self.row("p/a\(i)", user: "a\(i)", status: .delivered, variant: "a", sentAt: s, triggerAt: s))
                if i < 56 {
                    events.append(
                        EventRecord(userID: "a\(i)", name: "purchase", timestampMillis: (s + 60) * 1000))
                }
            }
            for i in 0..<80 {
                rows.append(Self.row("p/h\(i)", user: "h\(i)", status: .holdout, triggerAt: s))
                if i < 48 {
                    events.append(
                        EventRecord(userID: "h\(i)", name: "purchase", timestampMillis: (s + 60) * 1000))
                }
            }
            _ = try await ledger.record(rows)
            _ = try await store.insertEvents(events)
            let goal = Campaign.Conversion(event: "purchase", within: 86_400)
            let f = try #require(try await ledger.funnels(campaign: "promo", goals: ["promo": goal]).first)
            let holdout = try #require(f.arms.first { $0.isHoldout })
            let a = try #require(f.arms.first { $0.variant == "a" })
            #expect(holdout.users == 80 && holdout.converted == 48 && a.users == 70 && a.converted == 56)
            let converted = try #require(a.converted)
            let lift = try #require(
                ProportionDifference.newcombe(converted, of: a.users, minus: 48, of: holdout.users))
            #expect(abs(lift.difference - 0.2) < 1e-9)
            #expect(abs(lift.low - 0.0524) < 5e-5 && abs(lift.high - 0.3339) < 5e-5)
        }
    }

    /// (x₁, n₁, x₂, n₂, low, high), hand-computed from the Wilson bounds (Newcombe 1998, method 10).
    static let intervals: [(Int, Int, Int, Int, Double, Double)] = [
        (56, 70, 48, 80, 0.0524, 0.3339),  // Newcombe's example (a)
        (12, 40, 3, 30, 0.0035, 0.3676),  // Wilson 0.1807–0.4543 and 0.0346–0.2562
        (0, 30, 0, 30, -0.1135, 0.1135),  // no conversions at all: symmetric, not a zero-width interval
        (30, 30, 0, 30, 0.8395, 1.0000),  // the extremes stay inside [-1, 1]
    ]

    @Test(arguments: intervals)
    func newcombeIntervalMatchesHandComputedValues(_ c: (Int, Int, Int, Int, Double, Double)) throws {
        let d = try #require(ProportionDifference.newcombe(c.0, of: c.1, minus: c.2, of: c.3))
        #expect(abs(d.difference - (Double(c.0) / Double(c.1) - Double(c.2) / Double(c.3))) < 1e-12)
        #expect(abs(d.low - c.4) < 5e-5, "low \(d.low)")
        #expect(abs(d.high - c.5) < 5e-5, "high \(d.high)")
    }

    @Test func groupsUnderThirtyUsersGetNoInterval() {
        // Newcombe's example (g), 5/56 − 0/29, has an interval (−0.0381 to 0.1926) but 29 is under the minimum.
        #expect(ProportionDifference.newcombe(5, of: 56, minus: 0, of: 29) == nil)
        #expect(ProportionDifference.newcombe(0, of: 29, minus: 5, of: 56) == nil)
        #expect(ProportionDifference.newcombe(5, of: 30, minus: 0, of: 30) != nil)
        let w = ProportionDifference.wilson(12, of: 40)
        #expect(abs(w.low - 0.1807) < 5e-5 && abs(w.high - 0.4543) < 5e-5)
    }
}
