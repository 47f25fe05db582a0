import Foundation
import HeraldCore
import HeraldDaemon
import HeraldLedger
import Testing

/// Date-based sends land on the recipient's own local date (docs/campaigns.md, "Local-date sends"): the
/// scheduler and dispatcher driven on the manual clock across days, time zones and DST changes.
@Suite struct LocalDateSendTests {
    /// Zones from UTC+14 to UTC−11, a +5:45 one, and one whose 09:00 falls on the hour Berlin's clock repeats
    /// or skips (Johannesburg, UTC+2).
    static let zones = [
        "Pacific/Kiritimati", "Asia/Shanghai", "Asia/Kathmandu", "Africa/Johannesburg", "Europe/Berlin",
        "America/Los_Angeles", "Pacific/Pago_Pago",
    ]

    /// The shipped birthday campaign's rule: a daily cron at 09:00 Berlin, `local_time` 09:00.
    static let birthday = campaignYAML(
        id: "birthday", trigger: "cron: \"0 9 * * *\"\n  tz: Europe/Berlin", segment: "is_birthday()",
        sendTime: "strategy: local_time\n  local_time: \"09:00\"\n  within: 25h", channel: "sms")

    /// Users born on `date` (and, as controls, on the days around it) in every zone, with phones.
    static func users(born date: CivilDate) -> [UserUpsert] {
        var out: [UserUpsert] = []
        for (i, zone) in zones.enumerated() {
            for shift in [-1, 0, 1] {
                var u = UserUpsert(id: "\(zone)/\(shift)")
                u.timezone = .some(zone)
                u.phone = .some("+1555100\(String(format: "%02d", i))\(shift + 1)")
                u.createdAt = .some(DaemonFixture.t0 - 86_400 * 400)
                u.birthday = .some(CivilDate(daysSinceEpoch: date.daysSinceEpoch + Int64(shift)))
                out.append(u)
            }
        }
        return out
    }

    /// A normal day, the Sunday Berlin's clocks go back (a 25-hour day) and the one they go forward (23 hours).
    @Test(arguments: ["2026-11-20", "2026-10-25", "2027-03-28"])
    func everyoneIsGreetedOnTheirLocalBirthdayAtTheLocalTime(_ day: String) async throws {
        let date = try #require(TimestampParser.parseDate(day))
        let start = date.midnightUTC - 2 * 86_400
        let f = try DaemonFixture.make(campaigns: ["b.yaml": Self.birthday], start: start)
        defer { f.remove() }
        _ = try await f.store.upsertUsers(Self.users(born: date))
        // Four days in quarter hours: every cron fire and every zone's 09:00 is a step.
        for _ in 0..<(4 * 96) {
            try await f.scheduler.tick()
            try await f.drain()
            f.clock.advance(900)
        }
        let sent = try await f.rows().filter { $0.status == .sent }
        for zone in Self.zones {
            let clock = try #require(LocalClock(zone))
            let mine = sent.filter { $0.user == "\(zone)/0" }
            #expect(mine.count == 1, "\(zone): \(mine.map { TimestampParser.formatUTC(seconds: $0.sentAt ?? 0) })")
            let expected = clock.instant(date, ClockTime(hour: 9, minute: 0))
            #expect(mine.first?.sentAt == expected, "\(zone) got it at \(mine.first?.sentAt.map { TimestampParser.formatUTC(seconds: $0) } ?? "never")")
            // The neighbours' birthdays are the day before and after: each greeted on their own day only.
            for shift in [-1, 1] {
                let other = sent.filter { $0.user == "\(zone)/\(shift)" }
                let theirDay = CivilDate(daysSinceEpoch: date.daysSinceEpoch + Int64(shift))
                #expect(other.allSatisfy { $0.sentAt == clock.instant(theirDay, ClockTime(hour: 9, minute: 0)) })
                #expect(other.count <= 1, "\(zone)/\(shift)")
            }
        }
    }

    /// "Day 1 at 10:00 local" after a sign-up: the next local morning, however late in the day the sign-up came.
    @Test(arguments: [("19:45", "2026-11-21T09:00:00Z"), ("08:00", "2026-11-21T09:00:00Z"), ("23:59", "2026-11-21T09:00:00Z")])
    func dayOneAtTenIsTheNextLocalMorning(_ signUp: String, _ expected: String) async throws {
        let tips = campaignYAML(
            id: "tips", trigger: "event: signed_up\n  delay: 1d", segment: "id != \"\"",
            sendTime: "strategy: local_time\n  local_time: \"10:00\"\n  within: 24h")
        let berlin = try #require(LocalClock("Europe/Berlin"))
        let at = berlin.instant(CivilDate(year: 2026, month: 11, day: 20), try #require(ClockTime(parsing: signUp)))
        let f = try DaemonFixture.make(campaigns: ["t.yaml": tips], start: at)
        defer { f.remove() }
        var u = UserUpsert(id: "new")
        u.timezone = .some("Europe/Berlin")
        u.email = .some("new@example.com")
        _ = try await f.store.upsertUsers([u])
        let event = EventRecord(userID: "new", name: "signed_up", timestampMillis: at * 1000)
        _ = try await f.store.insertEvents([event])
        #expect(try await f.scheduler.handle(events: [event]) == 1)
        let row = try #require(try await f.rows().first)
        #expect(row.scheduledAt.map { TimestampParser.formatUTC(seconds: $0) } == expected)
        f.clock.set(try #require(row.scheduledAt))
        #expect(try await f.drain() == 1)
        #expect(try await f.rows().first?.status == .sent)
    }
}
