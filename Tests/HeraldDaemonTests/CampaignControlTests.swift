import Foundation
import HeraldCore
import HeraldDaemon
import HeraldLedger
import Testing

/// Pausing through the store: the daemon reads the switches every scheduler tick, plans nothing for a paused
/// campaign, hands its due rows back unsent, and sends them once it is resumed (docs/operations.md).
@Suite struct CampaignControlTests {
    static let t0 = DaemonFixture.t0

    @Test func aPauseInTheStoreHoldsPlanningAndSendingUntilResumed() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0 + 60)
        let later = TimestampParser.formatUTC(seconds: Self.t0 + 120)
        let f = try DaemonFixture.make(campaigns: [
            "a.yaml": campaignYAML(id: "first", trigger: "schedule: \(at)"),
            "b.yaml": campaignYAML(id: "second", trigger: "schedule: \(later)"),
        ])
        defer { f.remove() }
        try await f.users(["u1"])
        f.clock.advance(60)
        #expect(try await f.scheduler.tick() == 1)
        // Another daemon (or the console) pauses both: this one obeys at its next tick.
        for id in ["first", "second"] {
            try await f.ledger.setControl(subject: id, kind: .paused, on: true, by: "console", reason: "checking copy", at: f.clock.now)
        }
        f.clock.advance(60)
        #expect(try await f.scheduler.tick() == 0)  // "second" is due but paused
        #expect(f.book.current.campaign("first")?.status == .paused)
        #expect(f.book.current.controls.paused["first"]?.by == "console")
        #expect(try await f.dispatcher.dispatchOnce() == 1)
        #expect(try await f.rows().first?.status == .scheduled)
        #expect(f.outbox().isEmpty)
        try await f.ledger.setControl(subject: "first", kind: .paused, on: false, by: "cli", reason: nil, at: f.clock.now)
        try await f.ledger.setControl(subject: "second", kind: .paused, on: false, by: "cli", reason: nil, at: f.clock.now)
        f.clock.advance(60)
        #expect(try await f.scheduler.tick() == 1)
        #expect(f.book.current.campaign("first")?.status == .active)
        #expect(try await f.drain() == 2)
        #expect(f.outbox().count == 2)
    }

    @Test func aFilesOwnPausedStatusIsNeverMadeActiveAndAReloadKeepsTheControls() throws {
        let f = try DaemonFixture.make(campaigns: ["a.yaml": campaignYAML(id: "first", trigger: "api: true")])
        defer { f.remove() }
        let controls = CampaignControls(paused: ["first": .init(at: Self.t0, by: "cli")])
        #expect(f.book.setControls(controls))
        #expect(!f.book.setControls(controls))
        let loaded = f.book.current
        f.book.swap(CampaignBook(configPath: loaded.configPath, config: loaded.config, campaigns: loaded.campaigns.map {
            var c = $0
            c.status = .active
            return c
        }))
        #expect(f.book.current.campaign("first")?.status == .paused)
        #expect(f.book.setControls(CampaignControls()))
        #expect(f.book.current.campaign("first")?.status == .active)
    }
}
