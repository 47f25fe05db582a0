import HeraldCore
import HeraldLedger
import Testing

/// The console's grouped reads (`LedgerOverview`) on both backends: campaign activity, send times by zone, journey
/// step counts and the queue (docs/console.md).
@Suite(.serialized) struct LedgerOverviewTests {
    static let t: Int64 = 1_793_577_600

    /// A row of `campaign` for `user` in `status`, changed at `at`, sent at `sent`.
    func row(_ campaign: String, _ user: String, _ status: LedgerStatus, at: Int64, sent: Int64? = nil) -> LedgerEntry {
        var e = LedgerEntry(
            idempotencyKey: "\(campaign)/o/\(user)/1", campaign: campaign, user: user, status: status, channel: .email,
            scheduledAt: at, createdAt: at)
        e.sentAt = sent
        return e
    }

    @Test(arguments: TestBackend.all)
    func groupedCountsMatchTheRows(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            var tokyo = UserUpsert(id: "u1")
            tokyo.timezone = "Asia/Tokyo"
            _ = try await backend.store.upsertUsers([tokyo, UserUpsert(id: "u2")])
            let old = Self.t - 2 * 86_400
            _ = try await backend.ledger.record([
                row("promo", "u1", .sent, at: Self.t, sent: Self.t),
                row("promo", "u2", .sent, at: old, sent: old),
                row("promo", "u3", .scheduled, at: Self.t + 900),
                row("promo", "u4", .suppressed, at: Self.t),
                row("other", "u1", .failed, at: Self.t - 60),
            ])
            let activity = try await backend.ledger.campaignActivity(since: Self.t - 86_400)
            #expect(activity["promo"] == CampaignActivity(decisions: 4, recentSends: 1))
            #expect(activity["other"] == CampaignActivity(decisions: 1, recentSends: 0))

            let buckets = try await backend.ledger.sendTimes(campaign: "promo")
            #expect(Set(buckets) == [
                SendTimeBucket(zone: "Asia/Tokyo", quarter: Self.t / 900, count: 1),
                SendTimeBucket(zone: nil, quarter: old / 900, count: 1),
                SendTimeBucket(zone: nil, quarter: Self.t / 900 + 1, count: 1),  // u3 is not in the store
            ])

            let queue = try await backend.ledger.queue(now: Self.t)
            #expect(queue[.scheduled]?.waiting == 1 && queue[.scheduled]?.due == 0)
            #expect(queue[.failed]?.waiting == 1 && queue[.failed]?.due == 1)
            #expect(queue[.sending] == nil)

            let a = JourneyInstance(journey: "j", id: "i1", user: "u1", version: "v", step: "hello", reachedAt: Self.t,
                                    dueAt: Self.t, enteredAt: Self.t)
            let b = JourneyInstance(journey: "j", id: "i2", user: "u2", version: "v", step: "hello", reachedAt: Self.t,
                                    dueAt: Self.t, enteredAt: Self.t)
            #expect(try await backend.ledger.enterJourney(a, reEntryAfter: nil))
            #expect(try await backend.ledger.enterJourney(b, reEntryAfter: nil))
            var moved = b
            moved.step = "later"
            #expect(try await backend.ledger.moveInstance(moved, expectedMoves: 0, records: [
                JourneyStepRecord(journey: "j", instance: "i2", user: "u2", step: "hello", at: Self.t, outcome: "sent", next: "later")
            ]))
            let steps = try await backend.ledger.journeySteps(journey: "j")
            #expect(steps == JourneyStepCounts(at: ["hello": 1, "later": 1], through: ["hello": 1]))
        }
    }
}
