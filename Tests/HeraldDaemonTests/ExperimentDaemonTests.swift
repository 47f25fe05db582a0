import Foundation
import HeraldCore
import HeraldDaemon
import HeraldLedger
import Testing

/// Winner tests and staged rollouts on the manual clock (docs/experiments.md): each decision and each stage
/// once, recorded in the ledger, waves of disjoint users, nothing beyond a halted stage.
@Suite struct ExperimentDaemonTests {
    static let t0 = DaemonFixture.t0
    static let ids = (0..<400).map { String(format: "u%03d", $0) }

    static func rows(_ f: DaemonFixture) async throws -> [LedgerEntry] { try await f.rows() }

    @Test func stagesAreReleasedOnTimeDisjointAndHeldWhileHalted() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0 + 60)
        let f = try DaemonFixture.make(campaigns: ["a.yaml": campaignYAML(
            id: "gray", trigger: "schedule: \(at)", sendTime: "strategy: immediate\n  within: 1d",
            extra: "rollout:\n  stages: [10%, 50%, 100%]\n  every: 1h")])
        defer { f.remove() }
        try await f.users(Self.ids)
        let bucket = { (u: String) in ExperimentBucket.rollout(campaign: "gray", user: u) }
        f.clock.advance(60)
        _ = try await f.scheduler.tick()
        var rows = try await Self.rows(f)
        #expect(Set(rows.map(\.user)) == Set(Self.ids.filter { bucket($0) < 0.10 }))
        f.clock.advance(1800)
        _ = try await f.scheduler.tick()  // not yet an hour
        #expect(try await Self.rows(f).count == rows.count)
        f.clock.advance(1800)
        _ = try await f.scheduler.tick()
        rows = try await Self.rows(f)
        #expect(Set(rows.map(\.user)) == Set(Self.ids.filter { bucket($0) < 0.50 }))
        #expect(rows.count == Set(rows.map(\.user)).count)  // nobody twice
        // Halted: the third stage is not planned while the halt holds, then is once resumed.
        try await f.ledger.setControl(subject: "gray", kind: .rolloutHalted, on: true, by: "cli", reason: nil, at: f.clock.now)
        f.clock.advance(7200)
        _ = try await f.scheduler.tick()
        #expect(try await Self.rows(f).count == rows.count)
        try await f.ledger.setControl(subject: "gray", kind: .rolloutHalted, on: false, by: "cli", reason: nil, at: f.clock.now)
        _ = try await f.scheduler.tick()
        rows = try await Self.rows(f)
        #expect(rows.count == Self.ids.count && Set(rows.map(\.user)).count == Self.ids.count)
        let stages = try await f.ledger.occurrences(campaign: "gray", prefix: "").map(\.occurrence)
        #expect(stages == [at, at + "~stage2", at + "~stage3"])
    }

    @Test func aGuardrailBreachHaltsTheRolloutLoudly() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0 + 60)
        let f = try DaemonFixture.make(campaigns: ["a.yaml": campaignYAML(
            id: "gray", trigger: "schedule: \(at)", sendTime: "strategy: immediate\n  within: 1d",
            extra: "rollout:\n  stages: [10%, 100%]\n  every: 1h\n  halt_if:\n    unsubscribe_rate: 0.5%")])
        defer { f.remove() }
        try await f.users(Self.ids)
        f.clock.advance(60)
        _ = try await f.scheduler.tick()
        let first = try await f.drain()
        #expect(first >= 20)
        for row in try await Self.rows(f).prefix(2) { #expect(try await f.ledger.markUnsubscribed(key: row.idempotencyKey, at: f.clock.now)) }
        f.clock.advance(3600)
        _ = try await f.scheduler.tick()
        #expect(try await Self.rows(f).count == first)
        let halt = try #require(try await f.ledger.controls().haltedRollouts["gray"])
        #expect(halt.by == "guardrail" && halt.reason?.contains("unsubscribe") == true)
    }

    @Test func theWinnerIsDecidedOnceAndSentToTheRest() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0 + 60)
        let experiment = """
            experiment:
              variants:
                - { id: a, weight: 50 }
                - { id: b, weight: 50 }
              winner: { test: 50%, metric: click, after: 4h, confidence: 95%, if_no_winner: first }
            """
        let f = try DaemonFixture.make(campaigns: ["a.yaml": campaignYAML(
            id: "ab", trigger: "schedule: \(at)", sendTime: "strategy: immediate\n  within: 1d", extra: experiment)])
        defer { f.remove() }
        try await f.users(Self.ids)
        f.clock.advance(60)
        _ = try await f.scheduler.tick()
        let test = try await Self.rows(f)
        #expect(Set(test.map(\.user)) == Set(Self.ids.filter { ExperimentBucket.winnerTest(campaign: "ab", user: $0) < 0.5 }))
        _ = try await f.drain()
        // b's recipients click, a's do not: a clear winner.
        for row in test where row.variant == "b" { _ = try await f.ledger.markClicked(key: row.idempotencyKey, at: f.clock.now) }
        f.clock.advance(3600)
        _ = try await f.scheduler.tick()
        #expect(try await Self.rows(f).count == test.count)  // not yet 4 h
        f.clock.advance(3 * 3600)
        _ = try await f.scheduler.tick()
        _ = try await f.scheduler.tick()  // decided once
        let all = try await Self.rows(f)
        let rest = all.filter { $0.occurrence == at + "~rest" }
        #expect(rest.count == Self.ids.count - test.count)
        #expect(rest.allSatisfy { $0.variant == "b" })
        #expect(Set(all.map(\.user)).count == Self.ids.count)
        let record = try #require(try await f.ledger.occurrence(campaign: "ab", id: at + "~rest"))
        let detail = try #require(record.detail)
        let decision = try JSONDecoder().decode(WinnerDecision.self, from: Data(detail.utf8))
        #expect(decision.winner == "b" && decision.significant && decision.pValue ?? 1 < 0.05)
    }

    @Test func noWinnerWithStopSendsNothingMore() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0 + 60)
        let experiment = """
            experiment:
              variants:
                - { id: a, weight: 50 }
                - { id: b, weight: 50 }
              winner: { test: 20%, metric: open, after: 1h, if_no_winner: stop }
            """
        let f = try DaemonFixture.make(campaigns: ["a.yaml": campaignYAML(
            id: "ab", trigger: "schedule: \(at)", sendTime: "strategy: immediate\n  within: 1d", extra: experiment)])
        defer { f.remove() }
        try await f.users(Self.ids)
        f.clock.advance(60)
        _ = try await f.scheduler.tick()
        let test = try await Self.rows(f).count
        _ = try await f.drain()
        f.clock.advance(3600)
        _ = try await f.scheduler.tick()
        #expect(try await Self.rows(f).count == test)
        let record = try #require(try await f.ledger.occurrence(campaign: "ab", id: at + "~rest"))
        #expect(record.detail?.contains("\"winner\"") == false || record.detail?.contains("\"winner\":null") == true)
    }

    @Test func anEventCampaignReleasesStagesForTheCampaignAsAWhole() async throws {
        let f = try DaemonFixture.make(campaigns: ["a.yaml": campaignYAML(
            id: "welcome", trigger: "event: signed_up", sendTime: "strategy: immediate\n  within: 1d",
            extra: "rollout:\n  stages: [25%, 100%]\n  every: 1h")])
        defer { f.remove() }
        try await f.users(Self.ids)
        _ = try await f.scheduler.tick()  // stage 1 released at first sight
        let events = Self.ids.prefix(200).map { EventRecord(userID: $0, name: "signed_up", timestampMillis: f.clock.now * 1000) }
        _ = try await f.store.insertEvents(Array(events))
        _ = try await f.scheduler.handle(events: Array(events))
        let planned = Set(try await Self.rows(f).map(\.user))
        #expect(planned == Set(Self.ids.prefix(200).filter { ExperimentBucket.rollout(campaign: "welcome", user: $0) < 0.25 }))
        f.clock.advance(3600)
        _ = try await f.scheduler.tick()  // stage 2: everyone
        let later = Self.ids.suffix(200).map { EventRecord(userID: $0, name: "signed_up", timestampMillis: f.clock.now * 1000) }
        _ = try await f.store.insertEvents(Array(later))
        _ = try await f.scheduler.handle(events: Array(later))
        #expect(Set(try await Self.rows(f).map(\.user)).isSuperset(of: Set(Self.ids.suffix(200))))
    }

    @Test func aBanditFavoursTheArmThatClicksKeepsTheFloorAndNeverMovesAUser() async throws {
        let experiment = """
            experiment:
              variants:
                - { id: a, weight: 34 }
                - { id: b, weight: 33 }
                - { id: c, weight: 33 }
              winner: { strategy: bandit, metric: click }
            """
        let f = try DaemonFixture.make(campaigns: ["a.yaml": campaignYAML(
            id: "bandit", trigger: "event: viewed", sendTime: "strategy: immediate\n  within: 1d", extra: experiment)])
        defer { f.remove() }
        let users = (0..<600).map { String(format: "b%03d", $0) }
        try await f.users(users)
        func trigger(_ batch: ArraySlice<String>) async throws {
            let events = batch.map { EventRecord(userID: $0, name: "viewed", timestampMillis: f.clock.now * 1000) }
            _ = try await f.store.insertEvents(Array(events))
            _ = try await f.scheduler.handle(events: Array(events))
        }
        try await trigger(users[0..<150])
        _ = try await f.drain()
        // Arm b's recipients click; a's and c's do not.
        for row in try await f.rows() where row.variant == "b" {
            _ = try await f.ledger.markClicked(key: row.idempotencyKey, at: f.clock.now)
        }
        f.clock.advance(3600)
        try await trigger(users[150..<600])
        let later = try await f.rows().filter { !users[0..<150].contains($0.user) }
        let share = { (arm: String) in Double(later.filter { $0.variant == arm }.count) / Double(later.count) }
        #expect(later.count == 450)
        #expect(share("b") > 0.6, "b: \(share("b"))")
        // At least 10 % each by the floor (sampling tolerance on 450 draws).
        #expect(share("a") > 0.05 && share("c") > 0.05, "a: \(share("a")), c: \(share("c"))")
        // A user triggered again keeps the arm the ledger holds.
        let before = Dictionary(uniqueKeysWithValues: try await f.rows().filter { users[0..<20].contains($0.user) }.map { ($0.user, $0.variant) })
        f.clock.advance(86_400)
        try await trigger(users[0..<20])
        for row in try await f.rows() where users[0..<20].contains(row.user) {
            #expect(row.variant == before[row.user] ?? nil)
        }
    }
}

/// `received("campaign", window)`: the users a campaign already sent to, from the ledger (docs/segments.md).
@Suite struct ReceivedFunctionTests {
    @Test func aFollowUpSkipsWhoTheFirstCampaignAlreadyReached() async throws {
        let t0 = DaemonFixture.t0
        let first = TimestampParser.formatUTC(seconds: t0 + 60)
        let second = TimestampParser.formatUTC(seconds: t0 + 7200)
        let f = try DaemonFixture.make(campaigns: [
            "a.yaml": campaignYAML(id: "launch", trigger: "schedule: \(first)", segment: "country == \"US\""),
            "b.yaml": campaignYAML(id: "follow-up", trigger: "schedule: \(second)",
                                   segment: "not received(\"launch\", 30d)"),
        ])
        defer { f.remove() }
        try await f.users(["u1", "u2"])
        try await f.users(["ca"], country: "CA")
        f.clock.advance(60)
        #expect(try await f.scheduler.tick() == 2)
        #expect(try await f.drain() == 2)
        f.clock.advance(7140)
        #expect(try await f.scheduler.tick() == 1)
        let followUp = try await f.rows().filter { $0.campaign == "follow-up" }
        #expect(followUp.map(\.user) == ["ca"])
    }
}
