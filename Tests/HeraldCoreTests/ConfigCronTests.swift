import Foundation
import Testing

@testable import HeraldCore

@Suite("Config: cron expressions")
struct ConfigCronTests {
    static func iso(_ s: String) -> Int64 {
        guard case .success(let ms) = TimestampParser.parseISO(s) else { fatalError("bad fixture \(s)") }
        return ms / 1000
    }

    @Test(arguments: [
        ("0 9 * * MON", "UTC", "2026-11-23T10:00:00Z", "2026-11-30T09:00:00Z"),
        ("0 9 * * MON", "Asia/Shanghai", "2026-11-23T00:00:00Z", "2026-11-23T01:00:00Z"),
        ("0 9 * * 1-5", "UTC", "2026-11-27T09:00:00Z", "2026-11-30T09:00:00Z"),
        ("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"),
        ("15 10 1,15 * *", "UTC", "2026-11-15T10:15:00Z", "2026-12-01T10:15:00Z"),
        ("0 12 13 * FRI", "UTC", "2026-11-01T00:00:00Z", "2026-11-06T12:00:00Z"),
        ("0 0 1 JAN-MAR/2 *", "UTC", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"),
        ("@daily", "UTC", "2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z"),
        ("*/20 8-9 * * *", "UTC", "2026-11-23T09:40:00Z", "2026-11-24T08:00:00Z"),
        ("0 0 * * 7", "UTC", "2026-11-23T00:00:00Z", "2026-11-29T00:00:00Z"),
        // DST, America/New_York. Spring forward 2026-03-08 02:00 EST -> 03:00 EDT: 02:30 is skipped
        // and fires at the first valid minute after the gap, 03:00 EDT (07:00Z).
        ("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", "2026-03-08T07:00:00Z"),
        ("30 2 * * *", "America/New_York", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"),
        ("0 3 * * *", "America/New_York", "2026-03-07T12:00:00Z", "2026-03-08T07:00:00Z"),
        // Fall back 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens twice and fires once (the first).
        ("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-01T05:30:00Z"),
        ("30 1 * * *", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"),
        ("*/30 * * * *", "America/New_York", "2026-11-01T05:45:00Z", "2026-11-01T07:00:00Z"),
        ("0 9 * * *", "America/New_York", "2026-11-01T00:00:00Z", "2026-11-01T14:00:00Z"),
    ])
    func nextOccurrence(expr: String, zone: String, after: String, expected: String) throws {
        let cron = try CronExpression.parse(expr).get()
        let tz = try #require(TimeZone(identifier: zone))
        let next = cron.next(after: Self.iso(after), in: tz)
        #expect(next.map { TimestampParser.formatUTC(seconds: $0) } == expected)
    }

    @Test func skippedTimeFiresOnceForEveryMinuteInTheGap() throws {
        let cron = try CronExpression.parse("*/15 2 * * *").get()
        let tz = try #require(TimeZone(identifier: "America/New_York"))
        let first = try #require(cron.next(after: Self.iso("2026-03-08T05:00:00Z"), in: tz))
        #expect(TimestampParser.formatUTC(seconds: first) == "2026-03-08T07:00:00Z")
        let second = try #require(cron.next(after: first, in: tz))
        #expect(TimestampParser.formatUTC(seconds: second) == "2026-03-09T06:00:00Z")
    }

    @Test(arguments: [
        ("0 9 * *", "expected 5 fields"),
        ("60 * * * *", "minute field '60': value out of range 0-59"),
        ("0 9 * * FUN", "day-of-week field 'FUN'"),
        ("*/0 * * * *", "must be a positive number"),
        ("5-1 * * * *", "runs backwards"),
        ("0 9 32 * *", "day-of-month field '32'"),
        ("0 9 * 13 *", "month field '13'"),
        ("0 0 31 2,4 *", "never fires"),
    ])
    func rejects(expr: String, reason: String) {
        guard case .failure(let f) = CronExpression.parse(expr) else {
            Issue.record("accepted \(expr)")
            return
        }
        #expect(f.reason.contains(reason), "\(f.reason)")
    }

    @Test func namesAndShorthands() throws {
        let c = try CronExpression.parse("0 9 * jan,Dec mon-fri").get()
        #expect(c.months == [1, 12])
        #expect(c.daysOfWeek == [1, 2, 3, 4, 5])
        #expect(try CronExpression.parse("@weekly").get().daysOfWeek == [0])
    }
}

@Suite("Config: cron error offsets")
struct ConfigCronOffsetTests {
    @Test(arguments: [("0 9 * * FUN", 8), ("  61 * * * *", 2), ("0  9 32 * *", 5)])
    func failurePointsAtTheField(expr: String, offset: Int) {
        guard case .failure(let f) = CronExpression.parse(expr) else {
            Issue.record("accepted \(expr)")
            return
        }
        #expect(f.offset == offset)
    }
}
