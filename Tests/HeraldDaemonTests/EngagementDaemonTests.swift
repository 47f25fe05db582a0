import Foundation
import HeraldCore
import HeraldDaemon
import HeraldLedger
import Testing

/// Engagement measured from the daemon's own sends and opens, read by adaptive caps at planning and at the
/// dispatch recheck and by `engagement()` when an event plans one user (docs/segments.md).
@Suite struct EngagementDaemonTests {
    static let t0 = DaemonFixture.t0

    /// Promotions capped at 3 a week, adaptive: a user who opened nothing gets max(1, round(3 × 0.25)) = 1.
    static let policy = "  caps: [ { topic: promotions, max: 3, per: 7d } ]\n  adaptive_caps: true"

    /// Two users get the first promotion; only `hot` opens it. The second promotion, planned for both before
    /// anything was sent (no engagement yet: the full cap), is rechecked at dispatch: `cold` has now had one
    /// message and opened none, so its cap is 1 and full. A third promotion planned later is suppressed for
    /// `cold` at planning. An event campaign for engaged users plans only `hot`.
    @Test func aNonOpenerDoesNotGetTheSecondPromotionAnEngagedUserGets() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0)
        let later = TimestampParser.formatUTC(seconds: Self.t0 + 13 * 3600)
        let f = try DaemonFixture.make(
            campaigns: [
                "p1.yaml": campaignYAML(id: "p1", trigger: "schedule: \(at)"),
                "p2.yaml": campaignYAML(
                    id: "p2", trigger: "schedule: \(at)",
                    sendTime: "strategy: local_time\n  local_time: \"12:00\"\n  within: 24h"),
                "p3.yaml": campaignYAML(id: "p3", trigger: "schedule: \(later)"),
                "engaged.yaml": """
                id: engaged
                name: engaged
                status: active
                topic: reminders
                audience:
                  segment: engagement() >= 0.5
                trigger:
                  event: cart_abandoned
                send_time:
                  strategy: immediate
                  within: 6h
                message:
                  channel: webhook
                  webhook:
                    endpoint: hook
                    body: { "user": "{{user_id}}" }
                """,
            ], policy: Self.policy)
        defer { f.remove() }
        try await f.users(["cold", "hot"])
        #expect(try await f.scheduler.tick() == 4)  // p1 and p2 for both: nothing sent yet, the full cap
        #expect(try await f.drain() == 2)  // p1 now; p2 waits for 12:00
        #expect(try await f.ledger.markOpened(key: "p1/\(at)/hot/1", at: Self.t0 + 600))

        f.clock.set(Self.t0 + 12 * 3600)
        #expect(try await f.drain() == 2)
        var rows = try await Self.byKey(f)
        #expect(
            rows["p2/cold"]?.status == .suppressed && rows["p2/cold"]?.reason == "cap:topic=promotions/7d")
        #expect(rows["p2/hot"]?.status == .sent)

        f.clock.set(Self.t0 + 13 * 3600)
        #expect(try await f.scheduler.tick() == 2)
        rows = try await Self.byKey(f)
        #expect(
            rows["p3/cold"]?.status == .suppressed && rows["p3/cold"]?.reason == "cap:topic=promotions/7d")
        #expect(rows["p3/hot"]?.status == .scheduled)
        // hot: p1 opened, p2 sent and not opened yet: 0.5. cold: 0 of 1.
        let events = ["cold", "hot"].map {
            EventRecord(userID: $0, name: "cart_abandoned", timestampMillis: (Self.t0 + 13 * 3600) * 1000)
        }
        _ = try await f.store.insertEvents(events)
        #expect(try await f.scheduler.handle(events: events) == 1)
        #expect(try await f.drain() == 2)
        rows = try await Self.byKey(f)
        #expect(rows["engaged/hot"]?.status == .sent && rows["engaged/cold"] == nil)
        #expect(rows["p3/hot"]?.status == .sent)
        #expect(f.outbox().count == 5)  // p1 ×2, p2 hot, p3 hot, engaged hot
    }

    /// The ledger's rows keyed `campaign/user`.
    static func byKey(_ f: DaemonFixture) async throws -> [String: LedgerEntry] {
        Dictionary(uniqueKeysWithValues: try await f.rows().map { ("\($0.campaign)/\($0.user)", $0) })
    }
}
