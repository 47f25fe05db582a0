import Foundation
import Testing

@testable import HeraldCore

/// Epoch seconds of an ISO-8601 time with offset.
private func at(_ iso: String) -> Int64 {
    guard case .success(let ms) = TimestampParser.parseISO(iso) else { fatalError("bad time \(iso)") }
    return ms / 1000
}

private let everyDay = Set(Weekday.allCases)
private let weekdays: Set<Weekday> = [.mon, .tue, .wed, .thu, .fri]

@Suite("Journey: wait until a local time, across DST changes")
struct JourneyWaitUntilTests {
    @Test(
        arguments: [
            // New York, 2026-03-08: 02:00 EST → 03:00 EDT. 02:30 does not exist: it moves forward by the gap.
            ("America/New_York", "02:30", "2026-03-07T12:00:00-05:00", everyDay, "2026-03-08T03:30:00-04:00"),
            // ... and 09:00 on the 23-hour day is 22 hours after 10:00 the day before.
            ("America/New_York", "09:00", "2026-03-07T10:00:00-05:00", everyDay, "2026-03-08T09:00:00-04:00"),
            // New York, 2026-11-01: 02:00 EDT → 01:00 EST. 01:30 happens twice: the first is meant.
            ("America/New_York", "01:30", "2026-10-31T12:00:00-04:00", everyDay, "2026-11-01T01:30:00-04:00"),
            // Reached between the two 01:30s: the first has passed, so the next is the day after.
            ("America/New_York", "01:30", "2026-11-01T01:45:00-04:00", everyDay, "2026-11-02T01:30:00-05:00"),
            // Berlin, 2026-03-29: 02:00 CET → 03:00 CEST.
            ("Europe/Berlin", "02:30", "2026-03-28T12:00:00+01:00", everyDay, "2026-03-29T03:30:00+02:00"),
            ("Europe/Berlin", "09:00", "2026-03-28T09:00:01+01:00", everyDay, "2026-03-29T09:00:00+02:00"),
            // Berlin, 2026-10-25: 03:00 CEST → 02:00 CET; weekdays only: Friday 10:00 waits for Monday 09:00 CET.
            ("Europe/Berlin", "09:00", "2026-10-23T10:00:00+02:00", weekdays, "2026-10-26T09:00:00+01:00"),
            ("Europe/Berlin", "02:30", "2026-10-24T22:00:00+02:00", everyDay, "2026-10-25T02:30:00+02:00"),
            // Exactly at the time: the next one, a day later ("after the step is reached").
            ("Europe/Berlin", "09:00", "2026-06-01T09:00:00+02:00", everyDay, "2026-06-02T09:00:00+02:00"),
            // A second before: today.
            ("Asia/Shanghai", "09:00", "2026-06-01T08:59:59+08:00", everyDay, "2026-06-01T09:00:00+08:00"),
            // Only Sundays, reached on a Sunday after the time: a week later.
            ("Asia/Shanghai", "09:00", "2026-06-07T10:00:00+08:00", [.sun], "2026-06-14T09:00:00+08:00"),
        ] as [(String, String, String, Set<Weekday>, String)])
    func nextLocalTime(zone: String, time: String, reached: String, days: Set<Weekday>, expected: String)
        throws
    {
        let clock = try #require(LocalClock(zone))
        let wait = JourneyWait(
            length: .until(try #require(ClockTime(parsing: time)), days: days), next: .exit)
        #expect(wait.due(reachedAt: at(reached), clock: clock) == at(expected))
    }

    /// The same rules as send times: the wait's instant is the instant LocalClock gives that local time.
    @Test func agreesWithTheSendTimeClock() throws {
        let clock = try #require(LocalClock("America/New_York"))
        let date = CivilDate(year: 2026, month: 3, day: 8)
        let time = ClockTime(hour: 2, minute: 30)
        #expect(
            JourneyWait.nextLocal(time, days: everyDay, after: at("2026-03-08T00:00:00-05:00"), clock: clock)
                == clock.instant(date, time))
    }

    @Test func durationWaitsCountSeconds() throws {
        let clock = try #require(LocalClock("Europe/Berlin"))
        let wait = JourneyWait(length: .duration(86_400), next: .exit)
        // Across the spring change a 1d wait is 24 hours, not "the same local time tomorrow".
        #expect(
            wait.due(reachedAt: at("2026-03-28T12:00:00+01:00"), clock: clock)
                == at("2026-03-29T13:00:00+02:00"))
    }
}
