import Foundation
import HeraldCore
@testable import HeraldDaemon
import HeraldLedger
import Testing

/// Journeys through the daemon's parts on the manual clock (docs/journeys.md): entry by event, message steps
/// through the pipeline, ledger and dispatcher, waits, a `wait_for` answered or timed out, a branch on
/// `opened()`, an `exit_when` event, and each step at most once.
@Suite struct JourneyDaemonTests {
    static let t0 = DaemonFixture.t0

    static let onboarding = """
        id: onboarding
        name: Onboarding
        status: active
        topic: promotions
        audience:
          segment: country == "US"
        trigger:
          event: signed_up
        exit_when:
          - event: purchase
        steps:
          - id: welcome
            message:
              channel: email
              email: { subject: "Welcome", text: "Hello, see {{unsubscribe_url}}" }
            send_time: { strategy: immediate, within: 24h }
          - id: day-1
            wait: 1d
          - id: await-cart
            wait_for: { event: cart_viewed, within: 2d }
            on_event: thanks
            on_timeout: pick
          - id: pick
            branch:
              - { if: opened("welcome"), goto: thanks }
              - { else: nudge }
          - id: nudge
            message:
              channel: webhook
              webhook: { endpoint: hook, body: { "user": "{{user_id}}" } }
            next: exit
          - id: thanks
            message:
              channel: email
              email: { subject: "Thanks", text: "Thanks, see {{unsubscribe_url}}" }
        """

    /// Ticks the runner and drains the dispatcher until neither moves anything.
    func settle(_ f: DaemonFixture) async throws {
        for _ in 0..<10 {
            let moved = try await f.journeys.tick()
            let sent = try await f.drain()
            if moved == 0 && sent == 0 { return }
        }
    }

    func event(_ user: String, _ name: String, at t: Int64) -> EventRecord {
        EventRecord(userID: user, name: name, timestampMillis: t * 1000)
    }

    /// Stores events as the API does and hands them to the scheduler (which runs the journeys).
    func track(_ f: DaemonFixture, _ events: [EventRecord]) async throws {
        _ = try await f.store.insertEvents(events)
        _ = try await f.scheduler.handle(events: events)
    }

    @Test func threeUsersTakeTheirThreePaths() async throws {
        let f = try DaemonFixture.make(campaigns: ["onboarding.yaml": Self.onboarding])
        defer { f.remove() }
        try await f.users(["answers", "buyer", "silent"])
        try await f.journeys.saveVersions()
        try await track(f, ["answers", "buyer", "silent"].map { event($0, "signed_up", at: Self.t0) })
        try await settle(f)
        f.clock.advance(30)
        try await settle(f)
        var rows = try await f.rows()
        #expect(rows.filter { $0.idempotencyKey.hasSuffix("/welcome") && $0.status == .sent }.count == 3)
        // The buyer purchases during the day's wait: the instance ends at once.
        f.clock.advance(3600)
        try await track(f, [event("buyer", "purchase", at: f.clock.clock.seconds)])
        // A day later everyone left is waiting for a cart view; "answers" views one.
        f.clock.advance(86_400)
        try await settle(f)
        try await track(f, [event("answers", "cart_viewed", at: f.clock.clock.seconds)])
        try await settle(f)
        f.clock.advance(30)
        try await settle(f)
        // Two days later "silent" times out, takes the else arm and gets the nudge.
        f.clock.advance(2 * 86_400)
        try await settle(f)
        f.clock.advance(30)
        try await settle(f)

        rows = try await f.rows()
        let keys = Set(rows.map(\.idempotencyKey))
        let o = Scheduler.eventOccurrence(Self.t0)
        #expect(
            keys == [
                "onboarding/\(o)/answers/welcome", "onboarding/\(o)/buyer/welcome", "onboarding/\(o)/silent/welcome",
                "onboarding/\(o)/answers/thanks", "onboarding/\(o)/silent/nudge",
            ])
        #expect(rows.allSatisfy { $0.status == .sent })
        func status(_ user: String) async throws -> JourneyInstanceStatus? {
            try await f.ledger.journeyInstances(journey: "onboarding", user: user).first?.status
        }
        #expect(try await status("answers") == .completed)
        #expect(try await status("buyer") == .exitedEvent("purchase"))
        #expect(try await status("silent") == .completed)
        let path = try await f.ledger.journeyRecords(journey: "onboarding", instance: o)
            .filter { $0.user == "silent" }.map { "\($0.step):\($0.outcome)→\($0.next)" }
        #expect(
            path == [
                "welcome:sent→day-1", "day-1:waited→await-cart", "await-cart:timeout→pick", "pick:else→nudge",
                "nudge:sent→exit",
            ])
        // Nothing is due any more, and a repeated signed_up starts nothing (re_entry: never by default).
        #expect(try await f.journeys.tick() == 0)
        try await track(f, [event("silent", "signed_up", at: f.clock.clock.seconds)])
        #expect(try await f.ledger.journeyInstances(journey: "onboarding", user: "silent").count == 1)
    }

    @Test func anExitEventCancelsThePendingMessageOfItsInstance() async throws {
        let f = try DaemonFixture.make(campaigns: ["onboarding.yaml": Self.onboarding])
        defer { f.remove() }
        try await f.users(["u1"])
        try await track(f, [event("u1", "signed_up", at: Self.t0)])
        // The welcome is recorded but not yet sent when the purchase arrives.
        #expect(try await f.journeys.tick() == 1)
        try await track(f, [event("u1", "purchase", at: Self.t0)])
        #expect(try await f.drain() == 1)
        let row = try #require(try await f.rows().first)
        #expect(row.status == .cancelled && row.reason == "exited:purchase")
        #expect(f.outbox().isEmpty)
    }

    @Test func aStoppedJourneyEndsItsInstances() async throws {
        let f = try DaemonFixture.make(campaigns: ["onboarding.yaml": Self.onboarding])
        defer { f.remove() }
        try await f.users(["u1"])
        try await track(f, [event("u1", "signed_up", at: Self.t0)])
        try await settle(f)
        f.clock.advance(30)
        try await settle(f)
        let stopped = Self.onboarding.replacingOccurrences(of: "status: active", with: "status: stopped")
        try stopped.write(toFile: f.root + "/campaigns/onboarding.yaml", atomically: true, encoding: .utf8)
        guard case .success(let book) = CampaignBook.load(path: f.root + "/herald.yaml", environment: [:]) else {
            Issue.record("the stopped journey does not load")
            return
        }
        f.book.swap(book)
        f.clock.advance(86_400)
        try await settle(f)
        let i = try await f.ledger.journeyInstances(journey: "onboarding", user: "u1").first
        #expect(i?.status == .stopped)
        #expect(try await f.rows().count == 1)
    }

    /// The race the kill -9 test found: the runner takes a `wait_for`'s timeout from a copy of the instance
    /// read before an event answered the wait. Its move loses the compare-and-set, and it must not have
    /// recorded the timeout path's message either.
    @Test func aRunnerThatLostTheRaceToAnEventRecordsNoMessage() async throws {
        // With a `where`, the runner's own look for an answer at the timeout does not see this one: from its
        // stale copy it takes the timeout path, whose first step is a message.
        let filtered = Self.onboarding.replacingOccurrences(
            of: "wait_for: { event: cart_viewed, within: 2d }",
            with: "wait_for: { event: cart_viewed, within: 2d, where: 'source == \"app\"' }")
        #expect(filtered != Self.onboarding)
        let f = try DaemonFixture.make(campaigns: ["onboarding.yaml": filtered])
        defer { f.remove() }
        try await f.users(["u1"])
        try await track(f, [event("u1", "signed_up", at: Self.t0)])
        try await settle(f)
        f.clock.advance(30)
        try await settle(f)
        f.clock.advance(86_400)
        try await settle(f)
        let waiting = try #require(try await f.ledger.activeInstances(user: "u1").first)
        #expect(waiting.step == "await-cart")
        // The answer is stored in time and applied; a runner still holding the copy from before tries the
        // timeout later, and loses.
        f.clock.advance(3600)
        var answer = event("u1", "cart_viewed", at: f.clock.clock.seconds)
        answer.propertiesJSON = #"{"source":"app"}"#
        try await track(f, [answer])
        #expect(try await f.ledger.activeInstances(user: "u1").first?.step == "thanks")
        f.clock.advance(3 * 86_400)
        #expect(try await !f.journeys.advance(waiting, book: f.book.current, now: f.clock.clock.seconds))
        try await settle(f)
        f.clock.advance(30)
        try await settle(f)
        let steps = try await f.rows().map { $0.idempotencyKey.split(separator: "/").last.map(String.init) ?? "" }
        #expect(steps.sorted() == ["thanks", "welcome"])
        #expect(try await f.ledger.journeyInstances(journey: "onboarding", user: "u1").first?.status == .completed)
    }

    /// "Both are exact": an answer stored one second before the timeout takes `on_event`; one stored at the
    /// timeout, while the instance still waits for the runner, is too late and the instance times out.
    @Test(arguments: [(Int64(-1), "thanks"), (Int64(0), "nudge")])
    func anAnswerWinsOnlyWhenStoredBeforeTheTimeout(_ offset: Int64, _ expected: String) async throws {
        let f = try DaemonFixture.make(campaigns: ["onboarding.yaml": Self.onboarding])
        defer { f.remove() }
        try await f.users(["u1"])
        try await track(f, [event("u1", "signed_up", at: Self.t0)])
        try await settle(f)
        f.clock.advance(30)
        try await settle(f)
        f.clock.advance(86_400)
        try await settle(f)
        let waiting = try #require(try await f.ledger.activeInstances(user: "u1").first)
        #expect(waiting.step == "await-cart")
        f.clock.set(waiting.reachedAt + 2 * 86_400 + offset)
        try await track(f, [event("u1", "cart_viewed", at: f.clock.clock.seconds)])
        try await settle(f)
        f.clock.advance(30)
        try await settle(f)
        let steps = try await f.rows().map { $0.idempotencyKey.split(separator: "/").last.map(String.init) ?? "" }
        #expect(steps.sorted() == [expected, "welcome"].sorted())
    }

    /// An instance keeps the version it entered on after the file changes (docs/journeys.md, "Versions"); a
    /// user who enters after the reload runs the new one.
    @Test func anInstanceKeepsItsVersionAcrossAReload() async throws {
        let f = try DaemonFixture.make(campaigns: ["onboarding.yaml": Self.onboarding])
        defer { f.remove() }
        try await f.users(["before", "after"])
        try await track(f, [event("before", "signed_up", at: Self.t0)])
        try await settle(f)
        f.clock.advance(30)
        try await settle(f)
        // The edit: the day's wait becomes three days.
        let edited = Self.onboarding.replacingOccurrences(of: "wait: 1d", with: "wait: 3d")
        try edited.write(toFile: f.root + "/campaigns/onboarding.yaml", atomically: true, encoding: .utf8)
        guard case .success(let book) = CampaignBook.load(path: f.root + "/herald.yaml", environment: [:]) else {
            Issue.record("the edited journey does not load")
            return
        }
        f.book.swap(book)
        try await track(f, [event("after", "signed_up", at: f.clock.clock.seconds)])
        try await settle(f)
        f.clock.advance(30)
        try await settle(f)
        let before = try #require(try await f.ledger.activeInstances(user: "before").first)
        let after = try #require(try await f.ledger.activeInstances(user: "after").first)
        #expect(before.version != after.version)
        #expect(after.version == book.journey("onboarding")?.version.hex)
        // A day and a bit later the old instance has moved on to the wait_for; the new one still waits.
        f.clock.advance(86_400 + 60)
        try await settle(f)
        #expect(try await f.ledger.activeInstances(user: "before").first?.step == "await-cart")
        #expect(try await f.ledger.activeInstances(user: "after").first?.step == "day-1")
        f.clock.advance(2 * 86_400)
        try await settle(f)
        #expect(try await f.ledger.activeInstances(user: "after").first?.step == "await-cart")
    }
}
