import Foundation
import HeraldCore
import Testing

@testable import HeraldLedger

/// Delivery reports against the ledger, on every backend: the transition table of docs/ledger.md, idempotent
/// repeats, and the race with the dispatcher's batched outcome write. A report must never put a row back in the
/// send queue.
@Suite("Delivery reports in the ledger")
struct DeliveryReportLedgerTests {
    static let t0: Int64 = 1_795_000_000

    static func entry(_ key: String, status: LedgerStatus) -> LedgerEntry {
        LedgerEntry(
            idempotencyKey: key, campaign: "promo", user: "u1", status: status, channel: .sms,
            scheduledAt: t0 - 10, createdAt: t0 - 60)
    }

    /// True when a dispatcher could take the row again, now or at any later time.
    static func claimable(_ ledger: any DispatchLedger) async throws -> [String] {
        try await ledger.claimDue(
            now: t0 + 10 * 365 * 86_400, limit: 100, owner: "later", lease: 60, perChannel: [:], shards: nil
        ).map(\.idempotencyKey)
    }

    @Test(arguments: TestBackend.all)
    func everyStatusAgainstEveryOutcome(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let ledger = backend.ledger
            let outcomes: [DeliveryOutcome] = [.delivered, .failed, .bounced]
            var rows: [LedgerEntry] = []
            for status in LedgerStatus.allCases {
                for outcome in outcomes { rows.append(Self.entry("promo/\(status)/\(outcome)/1", status: status)) }
            }
            #expect(try await ledger.record(rows) == rows.count)
            for status in LedgerStatus.allCases {
                for outcome in outcomes {
                    let key = "promo/\(status)/\(outcome)/1"
                    let changed = try await ledger.recordDelivery(
                        key: key, outcome: outcome, error: "why", at: Self.t0)
                    let after = try #require(try await ledger.entry(key: key))
                    if status == .sending || status == .sent {
                        #expect(changed, "\(status) + \(outcome)")
                        #expect(after.status == (outcome == .delivered ? .delivered : .bounced), "\(status) + \(outcome)")
                        #expect(after.reason == "dlr:\(outcome.rawValue)")
                        let last = try #require(try await ledger.history(key: key).last)
                        #expect(last.from == status && last.to == after.status && last.reason == after.reason)
                    } else {
                        #expect(!changed, "\(status) + \(outcome) must change nothing")
                        #expect(after.status == status, "\(status) + \(outcome)")
                        #expect(try await ledger.history(key: key).count == 1)
                    }
                    // A report never produces the dispatcher's retry status.
                    #expect(after.status != .failed || status == .failed)
                }
            }
            // Only the rows that were already waiting to be sent can be claimed: none that a report touched.
            let waiting = Set(try await Self.claimable(ledger))
            #expect(waiting == Set(outcomes.flatMap { o in ["scheduled", "failed"].map { "promo/\($0)/\(o)/1" } }))
        }
    }

    @Test(arguments: TestBackend.all)
    func repeatedAndContradictingReportsAreNoOps(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let ledger = backend.ledger
            _ = try await ledger.record([Self.entry("promo/o/a/1", status: .sent), Self.entry("promo/o/b/1", status: .sent)])
            // The replay of the issue: status=16, then status=2, each twice.
            #expect(try await ledger.recordDelivery(key: "promo/o/a/1", outcome: .bounced, error: "16", at: Self.t0))
            for outcome in [DeliveryOutcome.bounced, .failed, .failed, .delivered, .bounced] {
                #expect(try await !ledger.recordDelivery(key: "promo/o/a/1", outcome: outcome, error: "x", at: Self.t0 + 1))
            }
            let a = try #require(try await ledger.entry(key: "promo/o/a/1"))
            #expect(a.status == .bounced && a.reason == "dlr:bounced" && a.error == "16" && a.updatedAt == Self.t0)
            #expect(try await ledger.history(key: "promo/o/a/1").map(\.to) == [.sent, .bounced])

            // A genuine failure report on a sent row is final too, and a later "delivered" does not undo it.
            #expect(try await ledger.recordDelivery(key: "promo/o/b/1", outcome: .failed, error: "2", at: Self.t0))
            #expect(try await !ledger.recordDelivery(key: "promo/o/b/1", outcome: .delivered, error: nil, at: Self.t0 + 1))
            #expect(try await ledger.entry(key: "promo/o/b/1")?.status == .bounced)
            #expect(try await ledger.entry(key: "promo/o/b/1")?.reason == "dlr:failed")

            #expect(try await Self.claimable(ledger).isEmpty)
            #expect(try await ledger.queueDepth(now: Self.t0 + 86_400 * 30).pending == 0)
            #expect(try await !ledger.recordDelivery(key: "promo/o/none/1", outcome: .delivered, error: nil, at: Self.t0))
        }
    }

    /// The report can beat the dispatcher's batched outcome write: the row is then final while still leased. The
    /// dispatcher's write (whatever it says) neither overwrites nor resurrects it; it only adds what it knows.
    @Test(arguments: TestBackend.all)
    func aReportBeforeTheDispatchersWriteStaysFinal(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let ledger = backend.ledger
            let keys = ["promo/o/sent/1", "promo/o/failed/1", "promo/o/back/1", "promo/o/dead/1"]
            _ = try await ledger.record(keys.map { Self.entry($0, status: .scheduled) })
            let claimed = try await ledger.claimDue(
                now: Self.t0, limit: 10, owner: "d1", lease: 60, perChannel: [:], shards: nil)
            #expect(claimed.count == 4)
            for (i, key) in keys.enumerated() {
                #expect(
                    try await ledger.recordDelivery(
                        key: key, outcome: i == 0 ? .delivered : .failed, error: "carrier", at: Self.t0 + 1))
            }
            let outcomes = [
                DispatchOutcome(key: keys[0], status: .sent, providerMessageID: "m0"),
                DispatchOutcome(key: keys[1], status: .failed, error: "timeout", retryAt: Self.t0 + 5),
                DispatchOutcome(key: keys[2], status: .scheduled, reason: "provider_busy", retryAt: Self.t0 + 5),
                DispatchOutcome(key: keys[3], status: .dead, error: "gave up"),
            ]
            #expect(try await ledger.complete(outcomes, owner: "intruder", at: Self.t0 + 2) == 0)
            #expect(try await ledger.complete(outcomes, owner: "d1", at: Self.t0 + 2) == 4)
            let sent = try #require(try await ledger.entry(key: keys[0]))
            #expect(sent.status == .delivered && sent.sentAt == Self.t0 + 2 && sent.providerMessageID == "m0")
            #expect(sent.attempts == 1)
            for key in keys.dropFirst() {
                let row = try #require(try await ledger.entry(key: key))
                #expect(row.status == .bounced && row.reason == "dlr:failed" && row.error == "carrier", "\(key)")
                #expect(row.attempts == 1 && row.sentAt == nil, "\(key)")
                #expect(try await ledger.history(key: key).map(\.to) == [.scheduled, .sending, .bounced])
            }
            // Not claimable again, neither as due nor through an expired lease; a late write changes nothing.
            #expect(try await Self.claimable(ledger).isEmpty)
            #expect(try await ledger.complete(outcomes, owner: "d1", at: Self.t0 + 3) == 0)
            #expect(try await ledger.queueDepth(now: Self.t0 + 1_000).pending == 0)
        }
    }
}
