import Foundation
import HeraldCore
import Testing

@testable import HeraldLedger

/// Engagement measured from the ledger (docs/segments.md), and planning reading it: against every backend in
/// `TestBackend.all` from one body each.
@Suite("Engagement from the ledger")
struct EngagementTests {
    /// The measuring instant (2027-02-26T11:06:40Z).
    static let now: Int64 = 1_795_000_000 + 100 * day
    static let day: Int64 = 86_400
    /// The `promo` campaign's goal: a purchase within 2 days of the send.
    static let goals = ["promo": Campaign.Conversion(event: "purchase", within: 2 * day)]

    /// A row the provider accepted at `sentAt`, in `status`.
    static func sent(
        _ key: String, user: String, at sentAt: Int64, status: LedgerStatus = .sent,
        campaign: String = "promo"
    ) -> LedgerEntry {
        var e = LedgerEntry(
            idempotencyKey: key, campaign: campaign, user: user, status: status, channel: .email,
            scheduledAt: sentAt, createdAt: sentAt - 60, topic: "promotions")
        e.sentAt = sentAt
        return e
    }

    /// A purchase by `user` at `at` (epoch seconds).
    static func purchase(_ user: String, _ at: Int64) -> EventRecord {
        EventRecord(userID: user, name: "purchase", timestampMillis: at * 1000, numbers: ["amount": 10])
    }

    /// The ledger and events of the cases below.
    static func seed(_ backend: Backend) async throws {
        let ledger = backend.ledger
        let n = now
        _ = try await ledger.record([
            // u1: opened, clicked, converted a day after the send, nothing (a purchase just before it).
            sent("u1/open", user: "u1", at: n - 10 * day), sent("u1/click", user: "u1", at: n - 20 * day),
            sent("u1/buy", user: "u1", at: n - 30 * day), sent("u1/none", user: "u1", at: n - 40 * day),
            // u2: a purchase exactly `within` after one send converts; one a second later does not.
            sent("u2/edge", user: "u2", at: n - 50 * day), sent("u2/late", user: "u2", at: n - 60 * day),
            // u3: a send exactly 90 days old counts, one a second older does not; a campaign without a goal
            // has no conversions.
            sent("u3/90d", user: "u3", at: n - 90 * day), sent("u3/old", user: "u3", at: n - 90 * day - 1),
            sent("u3/news", user: "u3", at: n - 5 * day, campaign: "news"),
            // u4: sent after now only.
            sent("u4/later", user: "u4", at: n + 10),
            // u5: bounced, failed after a report, dead: never reached the user; delivered and opened counts.
            sent("u5/bounced", user: "u5", at: n - 5 * day, status: .bounced),
            sent("u5/failed", user: "u5", at: n - 5 * day, status: .failed),
            sent("u5/dead", user: "u5", at: n - 5 * day, status: .dead),
            LedgerEntry(
                idempotencyKey: "u5/suppressed", campaign: "promo", user: "u5", status: .suppressed,
                createdAt: n - 5 * day),
            sent("u5/delivered", user: "u5", at: n - 6 * day, status: .delivered),
            // u6: opened only after now; u7: bought only after now.
            sent("u6/open-later", user: "u6", at: n - 3 * day),
            sent("u7/buy-later", user: "u7", at: n - 3600),
        ])
        #expect(try await ledger.markOpened(key: "u1/open", at: n - 10 * day + 60))
        #expect(try await ledger.markClicked(key: "u1/click", at: n - 20 * day + 60))
        #expect(try await ledger.markOpened(key: "u5/delivered", at: n - 6 * day + 60))
        #expect(try await ledger.markOpened(key: "u6/open-later", at: n + 100))
        _ = try await backend.store.insertEvents([
            purchase("u1", n - 29 * day), purchase("u1", n - 40 * day - 1),
            purchase("u2", n - 48 * day), purchase("u2", n - 58 * day + 1),
            purchase("u3", n - 5 * day + 3600), purchase("u7", n + 3600),
        ])
    }

    @Test(arguments: TestBackend.all)
    func opensClicksAndConversionsOverTheSendsOfTheLast90Days(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            try await Self.seed(backend)
            let ledger = backend.ledger
            let all = try await ledger.engagement(users: nil, now: Self.now, goals: Self.goals)
            #expect(
                all == [
                    "u1": Engagement(sent: 4, engaged: 3), "u2": Engagement(sent: 2, engaged: 1),
                    "u3": Engagement(sent: 2, engaged: 0), "u5": Engagement(sent: 1, engaged: 1),
                    "u6": Engagement(sent: 1, engaged: 0), "u7": Engagement(sent: 1, engaged: 0),
                ])
            #expect(all["u1"]?.ratio == 0.75)
            // Asked for some users: only those with a send in the window come back.
            #expect(
                try await ledger.engagement(users: ["u1", "u4", "nobody"], now: Self.now, goals: Self.goals)
                    == ["u1": Engagement(sent: 4, engaged: 3)])
            #expect(try await ledger.engagement(users: [], now: Self.now, goals: Self.goals).isEmpty)
            // Without goals nothing converts.
            let noGoals = try await ledger.engagement(users: ["u1", "u2"], now: Self.now, goals: [:])
            #expect(
                noGoals == ["u1": Engagement(sent: 4, engaged: 2), "u2": Engagement(sent: 2, engaged: 0)])
            // A second later the 90-day-old send leaves the window; a day later u6's open and u7's purchase
            // have happened, and u4's send is in.
            let later = try await ledger.engagement(users: nil, now: Self.now + 1, goals: Self.goals)
            #expect(later["u3"] == Engagement(sent: 1, engaged: 0))
            let dayLater = try await ledger.engagement(
                users: nil, now: Self.now + Self.day, goals: Self.goals)
            #expect(dayLater["u6"] == Engagement(sent: 1, engaged: 1))
            #expect(dayLater["u7"] == Engagement(sent: 1, engaged: 1))
            #expect(dayLater["u4"] == Engagement(sent: 1, engaged: 0))
        }
    }

    /// With adaptive caps, a user who opened nothing of the last 90 days gets a quarter of the cap (at least
    /// 1) and one who opened everything the full cap: planning reads engagement from the ledger.
    @Test(arguments: TestBackend.all)
    func planningReadsEngagementAndAdaptiveCapsReduceANonOpenersCap(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let (parsed, diagnostics) = HeraldConfig.parse(
                yaml: """
                    store: { sqlite: h.db }
                    topics: [promotions]
                    policy:
                      caps: [ { channel: any, max: 2, per: 7d } ]
                      adaptive_caps: true
                    """, file: "herald.yaml", baseDirectory: backend.dir.url.path, environment: [:])
            let config = try #require(parsed, "\(diagnostics)")
            let (loaded, campaignDiagnostics) = CampaignFile.parse(
                yaml: """
                    id: next
                    name: next
                    status: active
                    topic: promotions
                    audience: { segment: 'id != ""' }
                    trigger: { api: true }
                    send_time: { strategy: immediate, within: 6h }
                    message: { channel: email, email: { subject: "Hi", text: "Hello" } }
                    """, file: "next.yaml", config: config)
            let campaign = try #require(loaded, "\(campaignDiagnostics)")
            _ = try await backend.store.upsertUsers(
                ["cold", "hot"].map { id in
                    var u = UserUpsert(id: id)
                    u.email = .some("\(id)@example.com")
                    return u
                })
            var rows: [LedgerEntry] = []
            for user in ["cold", "hot"] {
                for (i, ago) in [2 * Self.day, 20 * Self.day, 40 * Self.day, 60 * Self.day].enumerated() {
                    rows.append(Self.sent("\(user)/\(i)", user: user, at: Self.now - ago))
                }
            }
            _ = try await backend.ledger.record(rows)
            for i in 0..<4 {
                #expect(try await backend.ledger.markOpened(key: "hot/\(i)", at: Self.now - 86_400))
            }
            let inputs = try await PlanningSource.inputs(
                store: backend.store, ledger: backend.ledger, config: config, campaigns: [campaign],
                now: Self.now,
                goals: [:])
            let byID = Dictionary(uniqueKeysWithValues: zip(inputs.snapshot.ids, inputs.snapshot.engagement))
            #expect(byID["cold"] == 0 && byID["hot"] == 1)
            let decisions = DecisionPipeline(
                campaign: campaign, occurrence: Occurrence(start: Self.now), inputs: inputs
            )
            .plan()
            let outcome = Dictionary(uniqueKeysWithValues: decisions.map { ($0.user, $0) })
            // One send in the last 7 days each: the cold user's cap is max(1, round(2 × 0.25)) = 1, so it is full.
            #expect(outcome["cold"]?.outcome == .suppressed && outcome["cold"]?.reason == "cap:any/7d")
            #expect(outcome["hot"]?.outcome == .send)
        }
    }
}
