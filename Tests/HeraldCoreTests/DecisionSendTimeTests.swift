import Testing

@testable import HeraldCore

@Suite("Decision: send time")
struct DecisionSendTimeTests {
    typealias F = DecisionFixture

    @Test func immediateAndWindowMissed() {
        let start = F.t("2026-11-23T10:00:00Z")
        let u = F.user("u1", email: "u1@example.com")
        let c = F.campaign(within: 6 * 3600)
        #expect(F.decide(c, u, start: start).sendAt == start)
        // Planned late but inside the window: as soon as possible.
        #expect(F.decide(c, u, start: start, now: start + 3600).sendAt == start + 3600)
        // The window is entirely gone.
        let late = F.decide(c, u, start: start, now: start + 6 * 3600)
        #expect(late.outcome == .suppressed && late.reason == "window_missed")
    }

    /// local_time: the first moment at that local time inside the window, per recipient, across DST.
    @Test(arguments: [
        ("Asia/Shanghai", "2026-11-23T00:00:00Z", "10:00", "2026-11-23T02:00:00Z"),
        ("Asia/Shanghai", "2026-11-23T03:00:00Z", "10:00", "2026-11-24T02:00:00Z"),
        ("America/New_York", "2026-03-08T00:00:00Z", "02:30", "2026-03-08T07:30:00Z"),  // skipped → 03:30 EDT
        ("America/New_York", "2026-11-01T00:00:00Z", "01:30", "2026-11-01T05:30:00Z"),  // repeated → first
        ("Australia/Lord_Howe", "2026-10-03T00:00:00Z", "02:15", "2026-10-03T15:45:00Z"),
        ("Asia/Kathmandu", "2026-11-23T00:00:00Z", "09:00", "2026-11-23T03:15:00Z"),
        ("Pacific/Chatham", "2026-09-26T00:00:00Z", "03:00", "2026-09-26T14:15:00Z"),
    ])
    func localTime(_ zone: String, _ start: String, _ time: String, _ expected: String) {
        let c = F.campaign(strategy: .localTime, within: 48 * 3600, localTime: ClockTime(parsing: time))
        let d = F.decide(c, F.user("u1", email: "u1@example.com", timezone: zone), start: F.t(start))
        #expect(d.sendAt.map { TimestampParser.formatUTC(seconds: $0) } == expected)
    }

    @Test func localTimeOutsideTheWindowIsMissed() {
        let c = F.campaign(strategy: .localTime, within: 3600, localTime: ClockTime(hour: 10, minute: 0))
        let d = F.decide(c, F.user("u1", email: "u1@example.com"), start: F.t("2026-11-23T11:00:00Z"))
        #expect(d.reason == "window_missed")
    }

    /// Events every day at 19:xx local for six weeks.
    static func evenings(_ zone: String, before now: Int64, hour: Int = 19) -> [Int64] {
        let clock = LocalClock(zone)!
        let today = clock.local(now).date.daysSinceEpoch
        return (1...42).map {
            clock.instant(CivilDate(daysSinceEpoch: today - Int64($0)), ClockTime(hour: hour, minute: 10))
        }
    }

    @Test(arguments: [
        "Asia/Shanghai", "America/New_York", "Asia/Kathmandu", "Pacific/Chatham", "Australia/Lord_Howe",
    ])
    func bestTimeLandsJustBeforeThePeak(_ zone: String) throws {
        let start = F.t("2026-11-23T00:00:00Z")
        let u = F.user(
            "u1", email: "u1@example.com", timezone: zone, events: Self.evenings(zone, before: start))
        let d = F.decide(F.campaign(strategy: .bestTime), u, start: start)
        let at = try #require(d.sendAt)
        let clock = try #require(LocalClock(zone))
        let local = clock.local(at).secondOfDay
        // Within the spread around 19:00: 18:45 ≤ t < 19:15.
        #expect(local >= 18 * 3600 + 45 * 60 && local < 19 * 3600 + 15 * 60, "\(clock.clockTime(at))")
        #expect(at >= start && at < start + 48 * 3600)
    }

    @Test func passedBestSlotMovesToTheSameHourNextDay() throws {
        let start = F.t("2026-11-23T00:00:00Z")
        let u = F.user(
            "u1", email: "u1@example.com", timezone: "UTC",
            events: Self.evenings("UTC", before: start, hour: 2))
        // Planned at 05:00: today's 02:00 has passed; tomorrow's 02:00 is in the window.
        let d = F.decide(F.campaign(strategy: .bestTime), u, start: start, now: start + 5 * 3600)
        let at = try #require(d.sendAt)
        #expect(at >= start + 86_400 + 105 * 60 && at < start + 86_400 + 135 * 60)
        // With a 24h window the next day is gone: the best remaining hour, not a drop.
        let short = F.decide(
            F.campaign(strategy: .bestTime, within: 24 * 3600), u, start: start, now: start + 5 * 3600)
        #expect(short.outcome == .send)
        #expect(try #require(short.sendAt) >= start + 5 * 3600)
    }

    @Test func spreadIsDeterministicAndWithinTheSlot() {
        let start = F.t("2026-11-23T00:00:00Z")
        let users = (0..<200).map {
            F.user(
                "u\($0)", email: "u\($0)@example.com", timezone: "UTC",
                events: Self.evenings("UTC", before: start))
        }
        let a = F.plan(F.campaign(strategy: .bestTime), users, start: start)
        let b = F.plan(F.campaign(strategy: .bestTime), users.reversed(), start: start)
        let times = Set(a.compactMap(\.sendAt))
        #expect(times.count > 150, "sends spread over many distinct seconds")
        #expect(times.allSatisfy { $0 >= start + 18 * 3600 + 45 * 60 && $0 < start + 19 * 3600 + 15 * 60 })
        let byUser = Dictionary(uniqueKeysWithValues: b.map { ($0.user, $0.sendAt) })
        #expect(a.allSatisfy { byUser[$0.user] == $0.sendAt })
    }

    @Test func thinHistoryTakesTheSegmentProfile() throws {
        let start = F.t("2026-11-23T00:00:00Z")
        var users = (0..<5).map {
            F.user(
                "busy\($0)", email: "b\($0)@example.com",
                events: Self.evenings("UTC", before: start, hour: 14))
        }
        users.append(F.user("quiet", email: "q@example.com", events: [start - 3 * 86_400]))
        let ds = F.plan(F.campaign(strategy: .bestTime), users, start: start)
        let quiet = try #require(ds.last?.sendAt)
        #expect(
            LocalClock("UTC")!.clockTime(quiet).hour == 13 || LocalClock("UTC")!.clockTime(quiet).hour == 14)
        let why = DecisionPipeline(
            campaign: F.campaign(strategy: .bestTime), occurrence: Occurrence(start: start),
            inputs: F.inputs(users, now: start)
        ).explain(user: "quiet")
        #expect(why?.checks.last?.detail.contains("segment's") == true)
    }

    @Test func bestTimeAvoidsQuietHoursAndImmediateDefers() throws {
        let start = F.t("2026-11-23T00:00:00Z")
        let policy = PolicyConfig(
            quietHours: QuietHours(
                from: ClockTime(hour: 21, minute: 0), to: ClockTime(hour: 8, minute: 0), channels: [.sms]))
        let night = F.user(
            "n", phone: "+15550001111", timezone: "UTC", events: Self.evenings("UTC", before: start, hour: 23)
        )
        let d = F.decide(F.campaign(strategy: .bestTime, channel: .sms), night, start: start, policy: policy)
        let h = LocalClock("UTC")!.clockTime(try #require(d.sendAt))
        #expect(h >= ClockTime(hour: 7, minute: 45) && h < ClockTime(hour: 21, minute: 0))
        // immediate at 23:00 local Shanghai → 08:00 local; transactional ignores quiet hours.
        let sh = F.user("s", phone: "+8613800138000", timezone: "Asia/Shanghai")
        let at = F.t("2026-11-23T15:00:00Z")
        #expect(
            F.decide(F.campaign(channel: .sms), sh, start: at, policy: policy).sendAt
                == F.t("2026-11-24T00:00:00Z"))
        #expect(
            F.decide(F.campaign(transactional: true, channel: .sms), sh, start: at, policy: policy).sendAt
                == at)
        // Email is not in the quiet-hours channels.
        let both = F.user("e", email: "e@example.com", timezone: "Asia/Shanghai")
        #expect(F.decide(F.campaign(), both, start: at, policy: policy).sendAt == at)
    }

    @Test func invalidZoneUsesDefaultAndIsCounted() {
        let start = F.t("2026-11-23T00:00:00Z")
        let policy = PolicyConfig(defaultTimezone: "Asia/Shanghai")
        let c = F.campaign(strategy: .localTime, localTime: ClockTime(hour: 10, minute: 0))
        let ds = F.plan(
            c,
            [
                F.user("a", email: "a@example.com", timezone: "Mars/Base"),
                F.user("b", email: "b@example.com", timezone: nil),
                F.user("c", email: "c@example.com", timezone: "UTC"),
            ], start: start, policy: policy)
        #expect(ds.map(\.timezoneDefaulted) == [true, true, false])
        #expect(ds[0].sendAt == F.t("2026-11-23T02:00:00Z"))
        #expect(ds[2].sendAt == F.t("2026-11-23T10:00:00Z"))
    }

    /// A pass run in parallel chunks gives the same decisions every time, and `why` agrees.
    @Test func parallelPassIsDeterministicAndMatchesExplain() throws {
        let start = F.t("2026-11-23T00:00:00Z")
        let zones = ["UTC", "Asia/Shanghai", "America/New_York", "Asia/Kathmandu"]
        let users = (0..<3_000).map { i in
            F.user(
                "u\(i)", email: "u\(i)@example.com", timezone: zones[i % 4],
                events: i % 5 == 0
                    ? [] : (0..<6).map { start - Int64($0 + 1) * 86_400 - Int64(i % 24) * 3600 })
        }
        let c = F.campaign(strategy: .bestTime)
        let pipeline = DecisionPipeline(
            campaign: c, occurrence: Occurrence(start: start), inputs: F.inputs(users, now: start))
        let mask = pipeline.audienceMask()
        let a = pipeline.plan(mask: mask, chunks: 8)
        #expect(a.count == 3_000)
        #expect(a == pipeline.plan(mask: mask, chunks: 8))
        // Users with their own history do not depend on the aggregates: chunked and serial passes agree.
        let serial = pipeline.plan(mask: mask, chunks: 1)
        #expect(zip(a, serial).allSatisfy { $0.row % 5 == 0 || $0 == $1 })
        for i in [1, 7, 2_999] {
            let why = try #require(pipeline.explain(user: "u\(i)"))
            #expect(why.decision == a[i])
        }
    }

    /// best_time across both New York DST changes and Lord Howe's 30-minute one: the evening peak is found in
    /// local time on both sides of the change, and a passed peak moves to the same local hour the next day.
    @Test(arguments: [
        ("America/New_York", "2026-10-31T12:00:00Z", "2026-11-01T01:00:00Z"),  // fall back during the window
        ("America/New_York", "2026-03-07T12:00:00Z", "2026-03-08T01:00:00Z"),  // spring forward during the window
        ("Australia/Lord_Howe", "2026-10-03T00:00:00Z", "2026-10-03T09:00:00Z"),
    ])
    func bestTimeAcrossDST(_ zone: String, _ start: String, _ plannedAt: String) throws {
        let clock = try #require(LocalClock(zone))
        let t0 = F.t(start)
        let u = F.user("u1", email: "u1@example.com", timezone: zone, events: Self.evenings(zone, before: t0))
        let d = F.decide(F.campaign(strategy: .bestTime), u, start: t0, now: F.t(plannedAt))
        let at = try #require(d.sendAt)
        let local = clock.local(at).secondOfDay
        #expect(local >= 18 * 3600 + 45 * 60 && local < 19 * 3600 + 15 * 60, "\(clock.clockTime(at))")
        // The first evening of the window has passed at planning time: the next day's, inside the window.
        #expect(at > F.t(plannedAt) + 12 * 3600 && at < t0 + 48 * 3600)
    }
}
