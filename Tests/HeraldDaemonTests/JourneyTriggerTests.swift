import Foundation
import HeraldCore
@testable import HeraldDaemon
import HeraldLedger
import Testing

/// Journeys started by `schedule`, `cron`, `entered_segment` and `api` triggers (docs/journeys.md,
/// "Triggers"), on the manual clock: a fire enters the whole audience in bulk, once per fire, across a crash
/// between the entries and the fire's record.
@Suite struct JourneyTriggerTests {
    static let t0 = DaemonFixture.t0

    /// A journey with `trigger` (one line), `entry` and a welcome email after `wait` (none when empty).
    static func journey(id: String = "promo", trigger: String, reEntry: String = "never", wait: String = "") -> String {
        """
        id: \(id)
        name: \(id)
        status: active
        topic: promotions
        audience:
          segment: country == "US"
        trigger:
          \(trigger)
        entry:
          re_entry: \(reEntry)
        steps:
        \(wait.isEmpty ? "" : "  - id: pause\n    wait: \(wait)")
          - id: hello
            message:
              channel: email
              email: { subject: "Hello", text: "Hello, see {{unsubscribe_url}}" }
        """
    }

    func instances(_ f: DaemonFixture, _ journey: String, _ user: String) async throws -> [JourneyInstance] {
        try await f.ledger.journeyInstances(journey: journey, user: user)
    }

    func settle(_ f: DaemonFixture) async throws {
        for _ in 0..<10 {
            let moved = try await f.journeys.tick()
            let sent = try await f.drain()
            if moved == 0 && sent == 0 { return }
        }
    }

    @Test func aScheduleEntersTheAudienceOnceAtItsTime() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0 + 3600)
        let f = try DaemonFixture.make(campaigns: ["promo.yaml": Self.journey(trigger: "schedule: \(at)")])
        defer { f.remove() }
        try await f.users(["u1", "u2"])
        try await f.users(["abroad"], country: "FR")
        #expect(try await f.scheduler.tick() == 0)
        f.clock.advance(3600)
        // A crash after part of the entries were written and before the fire was recorded: the fire runs
        // again under the same id and enters nobody twice.
        let j = try #require(f.book.current.journey("promo"))
        #expect(try await f.journeys.enter(j, users: ["u1"], fire: at, now: f.clock.now) == 1)
        #expect(try await f.scheduler.tick() == 1)
        #expect(try await f.scheduler.tick() == 0)
        for user in ["u1", "u2"] { #expect(try await instances(f, "promo", user).map(\.id) == [at]) }
        #expect(try await instances(f, "promo", "abroad").isEmpty)
        #expect(try await f.ledger.occurrence(campaign: "promo", id: at)?.status == .fired)
        try await settle(f)
        f.clock.advance(30)
        try await settle(f)
        #expect(try await f.rows().map(\.idempotencyKey).sorted() == ["promo/\(at)/u1/hello", "promo/\(at)/u2/hello"])
        #expect(try await instances(f, "promo", "u2").first?.status == .completed)
    }

    @Test func aScheduleMissedByMoreThanADayEntersNobody() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0)
        let f = try DaemonFixture.make(
            campaigns: ["promo.yaml": Self.journey(trigger: "schedule: \(at)")], start: Self.t0 + 86_400)
        defer { f.remove() }
        try await f.users(["u1"])
        #expect(try await f.scheduler.tick() == 0)
        #expect(try await instances(f, "promo", "u1").isEmpty)
        #expect(try await f.ledger.occurrence(campaign: "promo", id: at)?.status == .missed)
    }

    /// Each cron fire enters the audience again under the re-entry rule. The fire is due even when a message
    /// step of an earlier instance was reached at the same moment: the occurrence records its message steps
    /// write do not count as fires.
    @Test(arguments: [("always", 2), ("never", 1)])
    func cronFiresEveryTimeUnderTheReEntryRule(_ reEntry: String, _ expected: Int) async throws {
        let f = try DaemonFixture.make(
            campaigns: [
                "promo.yaml": Self.journey(trigger: "cron: \"0 9 * * *\"", reEntry: reEntry, wait: "1d")
            ])
        defer { f.remove() }
        try await f.users(["u1", "u2"])
        #expect(try await f.scheduler.tick() == 0)  // first sight: counts from now
        f.clock.set(Self.t0 + 9 * 3600)
        #expect(try await f.scheduler.tick() == 2)
        try await settle(f)
        // Day two, 09:00: the first instances reach their message step just before the scheduler's round.
        f.clock.set(Self.t0 + 86_400 + 9 * 3600)
        try await settle(f)
        #expect(try await f.scheduler.tick() == 0)  // both users are still in their first instance
        let day2 = TimestampParser.formatUTC(seconds: Self.t0 + 86_400 + 9 * 3600)
        let fired = try await f.ledger.occurrence(campaign: "promo", id: day2)
        #expect(fired != nil, "the day-two fire was skipped")
        #expect(fired?.status == .fired)
        f.clock.advance(30)
        try await settle(f)
        #expect(try await instances(f, "promo", "u1").allSatisfy { $0.status == .completed })
        // Day three: a user may enter again only with re_entry: always.
        f.clock.set(Self.t0 + 2 * 86_400 + 9 * 3600)
        #expect(try await f.scheduler.tick() == (expected == 2 ? 2 : 0))
        #expect(try await instances(f, "promo", "u1").count == expected)
    }

    @Test func enteredSegmentEntersNewMembersOnceAcrossACrash() async throws {
        let f = try DaemonFixture.make(
            campaigns: ["promo.yaml": Self.journey(trigger: "entered_segment: true", reEntry: "always")])
        defer { f.remove() }
        try await f.users(["old"])
        #expect(try await f.scheduler.tick() == 0)  // the baseline
        let baseline = f.clock.now
        try await f.users(["new1", "new2"])
        f.clock.advance(60)
        // The crash: new1's entry was written, the fire's record (and the new members) were not.
        let j = try #require(f.book.current.journey("promo"))
        let fire = "entered-after-" + TimestampParser.formatUTC(seconds: baseline)
        #expect(try await f.journeys.enter(j, users: ["new1"], fire: fire, now: f.clock.now) == 1)
        // Ended before the fire runs again: re_entry: always would let a new fire id enter new1 twice.
        var first = try #require(try await instances(f, "promo", "new1").first)
        first.status = .completed
        first.step = "exit"
        first.dueAt = nil
        #expect(try await f.ledger.moveInstance(first, expectedMoves: 0, records: []))
        #expect(try await f.scheduler.tick() == 1)
        #expect(try await instances(f, "promo", "new1").count == 1)
        #expect(try await instances(f, "promo", "new2").map(\.id) == [fire])
        #expect(try await instances(f, "promo", "old").isEmpty)
        f.clock.advance(60)
        #expect(try await f.scheduler.tick() == 0)
    }

    @Test func anAPITriggerEntersTheAudienceOncePerKey() async throws {
        let f = try DaemonFixture.make(campaigns: ["promo.yaml": Self.journey(trigger: "api: true")])
        defer { f.remove() }
        try await f.users(["u1", "u2"])
        let first = try await f.scheduler.trigger(campaign: "promo", occurrence: "sale-1", users: ["u2", "ghost"])
        #expect(first.decisions == 1 && first.sends == 0 && !first.alreadyPlanned && first.occurrence == "api-sale-1")
        let again = try await f.scheduler.trigger(campaign: "promo", occurrence: "sale-1", users: nil)
        #expect(again.alreadyPlanned && again.decisions == 0)
        #expect(try await instances(f, "promo", "u1").isEmpty)
        #expect(try await instances(f, "promo", "u2").map(\.id) == ["api-sale-1"])
        let scheduled = try DaemonFixture.make(
            campaigns: ["promo.yaml": Self.journey(trigger: "schedule: 2030-01-01T00:00:00Z")])
        defer { scheduled.remove() }
        await #expect(throws: TriggerError.notAPITriggered("promo")) {
            _ = try await scheduled.scheduler.trigger(campaign: "promo", occurrence: nil, users: nil)
        }
    }
}
