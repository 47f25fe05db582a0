import Foundation
import HeraldCore
import HeraldDaemon
import HeraldLedger
import Testing

/// `cancel_if` cancels a delayed send when the event happened between the trigger and the send, looking back
/// at most `within` from the send (docs/campaigns.md, "cancel_if"); on the manual clock.
@Suite struct CancelIfTests {
    static let t0 = DaemonFixture.t0

    /// Plans `cart_abandoned` at t0 for each user, stores each user's purchase at its offset from t0, then
    /// dispatches at `dispatchAt` (offset from t0). Returns each user's final status.
    func run(
        delay: String, within: String, purchases: [String: Int64], dispatchAt: Int64
    ) async throws -> [String: LedgerEntry] {
        let f = try DaemonFixture.make(campaigns: [
            "cart.yaml": campaignYAML(
                id: "cart", trigger: "event: cart_abandoned\n  delay: \(delay)\n  cancel_if: { event: purchase, within: \(within) }",
                channel: "webhook")
        ])
        defer { f.remove() }
        let users = purchases.keys.sorted()
        try await f.users(users)
        let events = users.map { EventRecord(userID: $0, name: "cart_abandoned", timestampMillis: Self.t0 * 1000) }
        _ = try await f.store.insertEvents(events)
        #expect(try await f.scheduler.handle(events: events) == users.count)
        for (user, offset) in purchases where offset >= 0 {
            _ = try await f.store.insertEvents([
                EventRecord(userID: user, name: "purchase", timestampMillis: (Self.t0 + offset) * 1000)
            ])
        }
        f.clock.set(Self.t0 + dispatchAt)
        #expect(try await f.drain() == users.count)
        return Dictionary(uniqueKeysWithValues: try await f.rows().map { ($0.user, $0) })
    }

    @Test func aPurchaseJustBeforeALateSendCancelsIt() async throws {
        // Due at t0+1h, dispatched a minute late: the purchase came 31 s before the send, 29 s after t0+1h.
        let rows = try await run(
            delay: "1h", within: "1h", purchases: ["buyer": 3600 + 29, "browser": -1], dispatchAt: 3600 + 60)
        #expect(rows["buyer"]?.status == .cancelled && rows["buyer"]?.reason == "cancelled:purchase")
        #expect(rows["browser"]?.status == .sent)
    }

    @Test func withinLooksBackFromTheSendNotForwardFromTheTrigger() async throws {
        // Delay 2h, within 30m: a purchase 31 s before the send cancels it; one 10 minutes after the cart, more
        // than 30 minutes before the send, is outside the look-back.
        let rows = try await run(
            delay: "2h", within: "30m", purchases: ["late": 7200 - 31, "early": 600], dispatchAt: 7200)
        #expect(rows["late"]?.status == .cancelled && rows["late"]?.reason == "cancelled:purchase")
        #expect(rows["early"]?.status == .sent)
    }

    @Test func aPurchaseBeforeTheTriggerNeverCancels() async throws {
        let f = try DaemonFixture.make(campaigns: [
            "cart.yaml": campaignYAML(
                id: "cart", trigger: "event: cart_abandoned\n  delay: 10m\n  cancel_if: { event: purchase, within: 1d }",
                channel: "webhook")
        ])
        defer { f.remove() }
        try await f.users(["u1"])
        _ = try await f.store.insertEvents([
            EventRecord(userID: "u1", name: "purchase", timestampMillis: (Self.t0 - 60) * 1000)
        ])
        let cart = EventRecord(userID: "u1", name: "cart_abandoned", timestampMillis: Self.t0 * 1000)
        _ = try await f.store.insertEvents([cart])
        #expect(try await f.scheduler.handle(events: [cart]) == 1)
        f.clock.advance(600)
        #expect(try await f.drain() == 1)
        #expect(try await f.rows().first?.status == .sent)
    }
}
