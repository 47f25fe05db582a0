import Testing

@testable import HeraldCore

/// Local wall times → instants across DST, and quiet hours on the recipient's clock.
@Suite("Decision: local clock, DST and quiet hours")
struct DecisionClockTests {
    typealias F = DecisionFixture

    /// (zone, local date, local time, expected UTC instant).
    @Test(arguments: [
        // No DST.
        (
            "Asia/Shanghai", CivilDate(year: 2026, month: 3, day: 8), ClockTime(hour: 10, minute: 0),
            "2026-03-08T02:00:00Z"
        ),
        (
            "Asia/Kathmandu", CivilDate(year: 2026, month: 11, day: 23), ClockTime(hour: 10, minute: 0),
            "2026-11-23T04:15:00Z"
        ),
        // New York, spring forward 2026-03-08 02:00 EST → 03:00 EDT: 02:30 is skipped and moves to 03:30 EDT.
        (
            "America/New_York", CivilDate(year: 2026, month: 3, day: 8), ClockTime(hour: 2, minute: 30),
            "2026-03-08T07:30:00Z"
        ),
        (
            "America/New_York", CivilDate(year: 2026, month: 3, day: 8), ClockTime(hour: 1, minute: 59),
            "2026-03-08T06:59:00Z"
        ),
        (
            "America/New_York", CivilDate(year: 2026, month: 3, day: 8), ClockTime(hour: 3, minute: 0),
            "2026-03-08T07:00:00Z"
        ),
        // New York, fall back 2026-11-01 02:00 EDT → 01:00 EST: 01:30 happens twice; the first (EDT) wins.
        (
            "America/New_York", CivilDate(year: 2026, month: 11, day: 1), ClockTime(hour: 1, minute: 30),
            "2026-11-01T05:30:00Z"
        ),
        (
            "America/New_York", CivilDate(year: 2026, month: 11, day: 1), ClockTime(hour: 2, minute: 30),
            "2026-11-01T07:30:00Z"
        ),
        (
            "America/New_York", CivilDate(year: 2026, month: 11, day: 1), ClockTime(hour: 0, minute: 30),
            "2026-11-01T04:30:00Z"
        ),
        // Lord Howe: +10:30 standard, +11 summer, a 30-minute shift at 02:00 local.
        // Spring 2026-10-04: 02:00 → 02:30, so 02:15 is skipped and moves forward 30 min to 02:45 (+11).
        (
            "Australia/Lord_Howe", CivilDate(year: 2026, month: 10, day: 4), ClockTime(hour: 2, minute: 15),
            "2026-10-03T15:45:00Z"
        ),
        // Autumn 2026-04-05: 02:00 (+11) → 01:30 (+10:30), so 01:45 happens twice; the first (+11) wins.
        (
            "Australia/Lord_Howe", CivilDate(year: 2026, month: 4, day: 5), ClockTime(hour: 1, minute: 45),
            "2026-04-04T14:45:00Z"
        ),
        (
            "Australia/Lord_Howe", CivilDate(year: 2026, month: 4, day: 5), ClockTime(hour: 10, minute: 0),
            "2026-04-04T23:30:00Z"
        ),
        // Chatham: +12:45 standard, +13:45 summer, shifts at 02:45 / 03:45 local.
        // Spring 2026-09-27: 02:45 → 03:45, so 03:00 moves forward an hour to 04:00 (+13:45).
        (
            "Pacific/Chatham", CivilDate(year: 2026, month: 9, day: 27), ClockTime(hour: 3, minute: 0),
            "2026-09-26T14:15:00Z"
        ),
        // Autumn 2026-04-05: 03:45 → 02:45, so 03:00 happens twice; the first (+13:45) wins.
        (
            "Pacific/Chatham", CivilDate(year: 2026, month: 4, day: 5), ClockTime(hour: 3, minute: 0),
            "2026-04-04T13:15:00Z"
        ),
        (
            "Pacific/Chatham", CivilDate(year: 2026, month: 11, day: 23), ClockTime(hour: 10, minute: 0),
            "2026-11-22T20:15:00Z"
        ),
    ])
    func wallTimeToInstant(_ zone: String, _ date: CivilDate, _ time: ClockTime, _ expected: String) throws {
        let clock = try #require(LocalClock(zone))
        let t = clock.instant(date, time)
        #expect(TimestampParser.formatUTC(seconds: t) == expected)
    }

    @Test func unknownZoneFallsBackToDefault() {
        let (clock, defaulted) = LocalClock.resolve("Mars/Olympus_Mons", fallback: "Asia/Shanghai")
        #expect(defaulted)
        #expect(clock.name == "Asia/Shanghai")
        let (none, d2) = LocalClock.resolve(nil, fallback: "Nowhere/Invalid")
        #expect(d2 && none.name == "UTC")
        #expect(LocalClock.resolve("Asia/Kathmandu", fallback: "UTC").defaulted == false)
    }

    static let wrap = QuietHours(
        from: ClockTime(hour: 21, minute: 0), to: ClockTime(hour: 8, minute: 0), channels: [.sms])

    /// (zone, instant, expected instant after quiet hours 21:00–08:00).
    @Test(arguments: [
        ("Asia/Shanghai", "2026-11-23T12:59:00Z", "2026-11-23T12:59:00Z"),  // 20:59 local: allowed
        ("Asia/Shanghai", "2026-11-23T13:00:00Z", "2026-11-24T00:00:00Z"),  // 21:00 local → 08:00 next day
        ("Asia/Shanghai", "2026-11-23T15:30:00Z", "2026-11-24T00:00:00Z"),  // 23:30 → next day 08:00
        ("Asia/Shanghai", "2026-11-23T16:30:00Z", "2026-11-24T00:00:00Z"),  // 00:30 (after midnight) → same day 08:00
        ("Asia/Shanghai", "2026-11-23T23:59:00Z", "2026-11-24T00:00:00Z"),  // 07:59 → 08:00
        ("Asia/Shanghai", "2026-11-24T00:00:00Z", "2026-11-24T00:00:00Z"),  // 08:00: allowed
        // New York, the night of the fall-back change: 23:00 EDT → 08:00 EST.
        ("America/New_York", "2026-11-01T03:00:00Z", "2026-11-01T13:00:00Z"),
        // New York, spring-forward night: 22:00 EST → 08:00 EDT.
        ("America/New_York", "2026-03-08T03:00:00Z", "2026-03-08T12:00:00Z"),
        ("Asia/Kathmandu", "2026-11-23T16:00:00Z", "2026-11-24T02:15:00Z"),  // 21:45 → 08:00 (+05:45)
        ("Pacific/Chatham", "2026-11-23T08:00:00Z", "2026-11-23T18:15:00Z"),  // 21:45 (+13:45) → 08:00
    ])
    func quietHoursDefer(_ zone: String, _ at: String, _ expected: String) throws {
        let clock = try #require(LocalClock(zone))
        let moved = Self.wrap.nextAllowed(F.t(at), clock: clock)
        #expect(TimestampParser.formatUTC(seconds: moved) == expected)
    }

    @Test func quietHoursWithoutWrap() throws {
        let lunch = QuietHours(
            from: ClockTime(hour: 12, minute: 0), to: ClockTime(hour: 13, minute: 0), channels: [.email])
        let utc = try #require(LocalClock("UTC"))
        #expect(lunch.nextAllowed(F.t("2026-11-23T12:30:00Z"), clock: utc) == F.t("2026-11-23T13:00:00Z"))
        #expect(lunch.nextAllowed(F.t("2026-11-23T13:00:00Z"), clock: utc) == F.t("2026-11-23T13:00:00Z"))
        #expect(lunch.nextAllowed(F.t("2026-11-23T11:59:00Z"), clock: utc) == F.t("2026-11-23T11:59:00Z"))
        #expect(lunch.applies(to: .email) && !lunch.applies(to: .sms))
    }
}
