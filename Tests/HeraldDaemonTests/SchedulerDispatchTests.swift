import Foundation
import HeraldCore
import HeraldDaemon
import HeraldDelivery
import HeraldLedger
import Testing

/// The scheduler and dispatcher over a real SQLite store and outbox, driven tick by tick with a manual clock.
@Suite struct SchedulerDispatchTests {
    static let t0 = DaemonFixture.t0

    @Test func oneShotScheduleIsPlannedOnceAndSentOnce() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0 + 60)
        let f = try DaemonFixture.make(campaigns: ["a.yaml": campaignYAML(id: "launch", trigger: "schedule: \(at)")])
        defer { f.remove() }
        try await f.users(["u1", "u2", "u3"])
        try await f.users(["ca"], country: "CA")
        #expect(try await f.scheduler.tick() == 0)  // not yet due
        f.clock.advance(60)
        #expect(try await f.scheduler.tick() == 3)
        #expect(try await f.scheduler.tick() == 0)  // never twice
        #expect(try await f.drain() == 3)
        let rows = try await f.rows()
        #expect(rows.count == 3 && rows.allSatisfy { $0.status == .sent && $0.sentAt == Self.t0 + 60 })
        #expect(f.outbox().count == 3)
        #expect(try await f.drain() == 0)
        let history = try await f.ledger.history(key: "launch/\(at)/u1/1").map(\.to)
        #expect(history == [.scheduled, .sending, .sent])
    }

    @Test func aScheduleWhoseWindowPassedDuringDowntimeIsMissedNotSentLate() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0)
        let f = try DaemonFixture.make(
            campaigns: ["a.yaml": campaignYAML(id: "late", trigger: "schedule: \(at)")], start: Self.t0 + 7 * 3600)
        defer { f.remove() }
        try await f.users(["u1"])
        #expect(try await f.scheduler.tick() == 0)
        let record = try await f.ledger.occurrence(campaign: "late", id: at)
        #expect(record?.status == .missed)
        #expect(try await f.rows().isEmpty)
    }

    @Test func cronAfterDowntimePlansOnlyTheLatestOccurrence() async throws {
        // Hourly; the daemon sees it at t0, is down for 3 hours, comes back at t0+3h+10m.
        let f = try DaemonFixture.make(
            campaigns: ["a.yaml": campaignYAML(id: "hourly", trigger: "cron: \"0 * * * *\"\n  tz: UTC", sendTime: "strategy: immediate\n  within: 30m")])
        defer { f.remove() }
        try await f.users(["u1"])
        #expect(try await f.scheduler.tick() == 0)  // activation, nothing due at t0 exactly
        f.clock.advance(3 * 3600 + 600)
        #expect(try await f.scheduler.tick() == 1)
        let rows = try await f.rows()
        #expect(rows.map(\.occurrence) == [TimestampParser.formatUTC(seconds: Self.t0 + 3 * 3600)])
        for h in [1, 2] {
            let o = try await f.ledger.occurrence(campaign: "hourly", id: TimestampParser.formatUTC(seconds: Self.t0 + Int64(h) * 3600))
            #expect(o?.status == .missed)
        }
        #expect(try await f.scheduler.tick() == 0)
        f.clock.advance(3000)  // t0+4h: the next occurrence
        #expect(try await f.scheduler.tick() == 1)
    }

    @Test func eventTriggerWaitsForTheDelayAndIsCancelledByTheCancelEvent() async throws {
        let f = try DaemonFixture.make(campaigns: [
            "cart.yaml": campaignYAML(
                id: "cart", trigger: "event: cart_abandoned\n  delay: 1h\n  cancel_if: { event: purchase, within: 1h }",
                channel: "webhook")
        ])
        defer { f.remove() }
        try await f.users(["buyer", "browser"])
        let ms = Self.t0 * 1000
        let events = ["buyer", "browser"].map { EventRecord(userID: $0, name: "cart_abandoned", timestampMillis: ms) }
        _ = try await f.store.insertEvents(events)
        #expect(try await f.scheduler.handle(events: events) == 2)
        #expect(try await f.scheduler.handle(events: events) == 0)  // the same events again: nothing new
        #expect(try await f.drain() == 0)  // not due before the delay
        _ = try await f.store.insertEvents([EventRecord(userID: "buyer", name: "purchase", timestampMillis: ms + 600_000)])
        f.clock.advance(3600)
        #expect(try await f.drain() == 2)
        let byUser = Dictionary(uniqueKeysWithValues: try await f.rows().map { ($0.user, $0) })
        #expect(byUser["buyer"]?.status == .cancelled && byUser["buyer"]?.reason == "cancelled:purchase")
        #expect(byUser["browser"]?.status == .sent)
        #expect(f.outbox().count == 1)
    }

    @Test func aUserWhoOptsOutBetweenPlanningAndDispatchIsNotSent() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0)
        let f = try DaemonFixture.make(campaigns: ["a.yaml": campaignYAML(id: "promo", trigger: "schedule: \(at)")])
        defer { f.remove() }
        try await f.users(["stays", "leaves", "topic"])
        #expect(try await f.scheduler.tick() == 3)
        try await f.store.setPreference(userID: "leaves", scope: .global, optedOut: true, at: Self.t0)
        try await f.store.setPreference(userID: "topic", scope: .topic("promotions"), optedOut: true, at: Self.t0)
        #expect(try await f.drain() == 3)
        let byUser = Dictionary(uniqueKeysWithValues: try await f.rows().map { ($0.user, $0) })
        #expect(byUser["stays"]?.status == .sent)
        #expect(byUser["leaves"]?.status == .suppressed && byUser["leaves"]?.reason == "unsubscribed")
        #expect(byUser["topic"]?.status == .suppressed && byUser["topic"]?.reason == "opted_out:topic")
        #expect(f.outbox().count == 1)
    }

    @Test func aSendWhoseWindowPassedExpires() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0)
        let f = try DaemonFixture.make(campaigns: ["a.yaml": campaignYAML(id: "brief", trigger: "schedule: \(at)", sendTime: "strategy: immediate\n  within: 1h")])
        defer { f.remove() }
        try await f.users(["u1"])
        #expect(try await f.scheduler.tick() == 1)
        f.clock.advance(3601)
        #expect(try await f.drain() == 1)
        let row = try #require(try await f.rows().first)
        #expect(row.status == .expired && row.reason == "window_missed")
        #expect(f.outbox().isEmpty)
    }

    @Test func transientFailuresRetryWithBackoffThenGoDead() async throws {
        // A real refused connection: a port nothing listens on.
        let port = try freePort()
        let at = TimestampParser.formatUTC(seconds: Self.t0)
        let f = try DaemonFixture.make(
            campaigns: ["a.yaml": campaignYAML(id: "hook", trigger: "schedule: \(at)", sendTime: "strategy: immediate\n  within: 2d", channel: "webhook")],
            hook: "{ url: \"http://127.0.0.1:\(port)/\", rate: 1000/s }")
        defer { f.remove() }
        try await f.users(["u1"])
        #expect(try await f.scheduler.tick() == 1)
        #expect(try await f.drain() == 1)
        var row = try #require(try await f.rows().first)
        #expect(row.status == .failed && row.attempts == 1)
        let retryAt = try #require(row.scheduledAt)
        #expect(retryAt > Self.t0 && retryAt <= Self.t0 + 11)
        #expect(try await f.drain() == 0)  // not before its retry time
        f.clock.set(retryAt)
        #expect(try await f.drain() == 1)
        row = try #require(try await f.rows().first)
        #expect(row.status == .failed && row.attempts == 2)
        f.clock.set(try #require(row.scheduledAt))
        #expect(try await f.drain() == 1)
        row = try #require(try await f.rows().first)
        #expect(row.status == .dead && row.attempts == 3)
        #expect(row.error?.contains("gave up after 3 attempts") == true)
    }

    @Test func anExpiredLeaseIsReclaimedAndTheOldOwnerCannotOverwrite() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0)
        let f = try DaemonFixture.make(campaigns: ["a.yaml": campaignYAML(id: "lease", trigger: "schedule: \(at)")])
        defer { f.remove() }
        try await f.users(["u1"])
        #expect(try await f.scheduler.tick() == 1)
        // A dispatcher claims the row and dies.
        let claimed = try await f.ledger.claimDue(now: Self.t0, limit: 10, owner: "dead-one", lease: 60)
        #expect(claimed.count == 1)
        #expect(try await f.drain() == 0)  // leased: nobody else takes it
        f.clock.advance(61)
        #expect(try await f.drain() == 1)
        let key = claimed[0].idempotencyKey
        #expect(try await f.ledger.entry(key: key)?.status == .sent)
        #expect(try await f.ledger.history(key: key).contains { $0.reason == "lease expired: reclaimed" })
        let late = try await f.ledger.complete(
            [DispatchOutcome(key: key, status: .failed, error: "late")], owner: "dead-one", at: Self.t0 + 70)
        #expect(late == 0)
        #expect(try await f.ledger.entry(key: key)?.status == .sent)
    }

    @Test func enteredSegmentSendsOnlyToNewMembersAfterTheBaseline() async throws {
        let f = try DaemonFixture.make(campaigns: ["a.yaml": campaignYAML(id: "joined", trigger: "entered_segment: true")])
        defer { f.remove() }
        try await f.users(["old1", "old2"])
        #expect(try await f.scheduler.tick() == 0)  // baseline
        try await f.users(["new1"])
        f.clock.advance(10)
        #expect(try await f.scheduler.tick() == 0)  // at most one evaluation a minute
        f.clock.advance(50)
        #expect(try await f.scheduler.tick() == 1)
        #expect(try await f.rows().map(\.user) == ["new1"])
        f.clock.advance(60)
        #expect(try await f.scheduler.tick() == 0)
    }

    @Test func apiTriggerIsIdempotentByTheCallersKey() async throws {
        let f = try DaemonFixture.make(campaigns: ["a.yaml": campaignYAML(id: "flash", trigger: "api: true")])
        defer { f.remove() }
        try await f.users(["u1", "u2"])
        let first = try await f.scheduler.trigger(campaign: "flash", occurrence: "sale-42", users: nil)
        #expect(first.decisions == 2 && first.sends == 2 && !first.alreadyPlanned)
        let again = try await f.scheduler.trigger(campaign: "flash", occurrence: "sale-42", users: nil)
        #expect(again.alreadyPlanned && again.decisions == 0)
        let only = try await f.scheduler.trigger(campaign: "flash", occurrence: "vip", users: ["u2"])
        #expect(only.sends == 1)
        await #expect(throws: TriggerError.unknownCampaign("nope")) {
            _ = try await f.scheduler.trigger(campaign: "nope", occurrence: nil, users: nil)
        }
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on (bound, read, closed).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// The repository's verifying webhook receiver (Tests/Fixtures/webhook_receiver.py) on a free port.
final class ReceiverProcess {
    let process = ChildProcess()
    let port: Int

    init(_ dir: String) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/webhook_receiver.py").path
        // The python3 on PATH, where pip installed standardwebhooks (env execs it: the PID is Python's).
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, dir + "/ready", dir + "/record.jsonl"]
        process.standardError = FileHandle.nullDevice
        try launchSerialized(process)
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: dir + "/ready") {
            guard Date() < deadline, process.isRunning else { throw FixtureError("the webhook receiver never started") }
            usleep(10_000)
        }
        port = Int(try String(contentsOfFile: dir + "/ready", encoding: .utf8)) ?? 0
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
    }
}

extension SchedulerDispatchTests {
    @Test func anEndpointThatAnswers410IsDisabledAfterTheFirstRow() async throws {
        let dir = NSTemporaryDirectory() + "herald-410-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let receiver = try ReceiverProcess(dir)
        let f = try DaemonFixture.make(
            campaigns: ["a.yaml": campaignYAML(id: "gone", trigger: "api: true", channel: "webhook")],
            hook: "{ url: \"http://127.0.0.1:\(receiver.port)/fault/status/410\", rate: 1000/s }")
        defer { f.remove() }
        try await f.users(["u1", "u2"])
        _ = try await f.scheduler.trigger(campaign: "gone", occurrence: "first", users: ["u1"])
        #expect(try await f.drain() == 1)
        let first = try #require(try await f.ledger.entry(key: "gone/api-first/u1/1"))
        #expect(first.status == .dead && first.error?.contains("410") == true)
        _ = try await f.scheduler.trigger(campaign: "gone", occurrence: "second", users: ["u2"])
        #expect(try await f.drain() == 1)
        let second = try #require(try await f.ledger.entry(key: "gone/api-second/u2/1"))
        // Refused before any request: the endpoint stays disabled until a reload builds new senders.
        #expect(second.status == .dead && second.error?.contains("is disabled") == true)
    }
}

extension SchedulerDispatchTests {
    @Test func aCampaignRateSpacesItsSends() async throws {
        let at = TimestampParser.formatUTC(seconds: Self.t0)
        let f = try DaemonFixture.make(campaigns: [
            "a.yaml": campaignYAML(id: "slow", trigger: "schedule: \(at)", extra: "limits:\n  rate: 2/s")
        ])
        defer { f.remove() }
        try await f.users((1...8).map { "u\($0)" })
        #expect(try await f.scheduler.tick() == 8)
        let start = f.clock.exact
        #expect(try await f.drain() == 8)
        #expect(try await f.rows().allSatisfy { $0.status == .sent })
        // A burst of 2, then 2 a second: the other 6 need 3 seconds of the (injected) clock, not less.
        let spent = f.clock.exact - start
        #expect(spent >= 2.9 && spent < 4, "spent \(spent) s")
    }

    @Test func eventsStoredBeforeACrashArePlannedAtTheNextStart() async throws {
        let f = try DaemonFixture.make(campaigns: [
            "cart.yaml": campaignYAML(id: "cart", trigger: "event: cart_abandoned\n  delay: 1h", channel: "webhook")
        ])
        defer { f.remove() }
        try await f.users(["a", "b"])
        let ms = Self.t0 * 1000
        let events = ["a", "b"].map { EventRecord(userID: $0, name: "cart_abandoned", timestampMillis: ms) }
        let (_, new) = try await f.store.insertEventsReportingNew(
            events, awaitingPlanning: f.scheduler.triggeringEvents)
        #expect(new == [0, 1])
        #expect(try await f.scheduler.handle(events: [events[0]]) == 1)  // b's planning never ran: the crash
        let (_, again) = try await f.store.insertEventsReportingNew(events)
        #expect(again.isEmpty, "a retry stores nothing new, so it triggers nothing")
        #expect(try await f.scheduler.recoverEventTriggers() == 1)
        #expect(try await f.scheduler.recoverEventTriggers() == 0)
        #expect(Set(try await f.rows().map(\.user)) == ["a", "b"])
    }
}
