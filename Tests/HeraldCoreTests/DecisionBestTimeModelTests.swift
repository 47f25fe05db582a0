import Testing

@testable import HeraldCore

/// best_time's model (docs/send-time.md): thin histories lean on coarser views of the same user and on the
/// population instead of being replaced by it, and the population's default is a daytime hour.
@Suite("Decision: best_time model")
struct DecisionBestTimeModelTests {
    typealias F = DecisionFixture
    /// Monday 2026-11-23 00:00 UTC.
    static let start = F.t("2026-11-23T00:00:00Z")

    /// Events at local `time` on each of the `days` (days before `start`, in the user's zone).
    static func at(_ zone: String, _ time: String, daysBefore days: [Int]) -> [Int64] {
        let clock = LocalClock(zone)!
        let today = clock.local(start).date.daysSinceEpoch
        return days.map {
            clock.instant(CivilDate(daysSinceEpoch: today - Int64($0)), ClockTime(parsing: time)!)
        }
    }

    /// Users active every evening at `time` for six weeks.
    static func regulars(_ n: Int, at time: String, zone: String = "UTC", prefix: String) -> [UserFacts] {
        (0..<n).map {
            F.user(
                "\(prefix)\($0)", email: "\(prefix)\($0)@example.com", timezone: zone,
                events: at(zone, time, daysBefore: Array(1...42)))
        }
    }

    /// The send's local time of `user` in `decisions`.
    static func local(_ decisions: [Decision], _ user: String, _ zone: String) throws -> ClockTime {
        let d = try #require(decisions.first { $0.user == user })
        return try #require(LocalClock(zone)).clockTime(try #require(d.sendAt))
    }

    /// A user with three early-afternoon weekday events among a population of late-night users is sent in
    /// the early afternoon, not at the population's 22:00 (which the old hard fallback chose).
    @Test(arguments: ["UTC", "America/New_York", "Asia/Kathmandu"])
    func thinAfternoonHistoryBeatsTheSegmentsLateNight(_ zone: String) throws {
        var users = Self.regulars(6, at: "22:10", zone: zone, prefix: "owl")
        users.append(
            F.user(
                "thin", email: "thin@example.com", timezone: zone,
                events: Self.at(zone, "13:20", daysBefore: [3]) + Self.at(zone, "14:05", daysBefore: [4])
                    + Self.at(zone, "14:40", daysBefore: [10])))
        let c = F.campaign(strategy: .bestTime)
        let time = try Self.local(F.plan(c, users, start: Self.start), "thin", zone)
        #expect(time >= ClockTime(hour: 12, minute: 0) && time < ClockTime(hour: 15, minute: 0), "\(time)")
        let why = DecisionPipeline(
            campaign: c, occurrence: Occurrence(start: Self.start), inputs: F.inputs(users, now: Self.start)
        ).explain(user: "thin")
        #expect(why?.checks.last?.detail.contains("segment's (own history: 3 events, blended in)") == true)
    }

    /// No history: the population's daytime peak (14:00), though more of the population is active at 23:00;
    /// and a population active only at night still gives a daytime hour. SMS quiet hours stay respected.
    @Test func noHistoryGetsTheDaytimePeakNeverLateNight() throws {
        let quiet = PolicyConfig(
            quietHours: QuietHours(
                from: ClockTime(hour: 21, minute: 0), to: ClockTime(hour: 8, minute: 0), channels: [.sms]))
        let newcomer = F.user("new", email: "new@example.com", phone: "+15550001111", timezone: "UTC")
        let mixed =
            Self.regulars(6, at: "23:10", prefix: "owl") + Self.regulars(3, at: "14:10", prefix: "day")
        for (channel, policy) in [(ChannelKind.email, PolicyConfig()), (.sms, quiet)] {
            let c = F.campaign(strategy: .bestTime, channel: channel)
            let time = try Self.local(
                F.plan(c, mixed + [newcomer], start: Self.start, policy: policy), "new", "UTC")
            #expect(
                time >= ClockTime(hour: 13, minute: 45) && time < ClockTime(hour: 14, minute: 15), "\(time)")
        }
        let owls = Self.regulars(6, at: "23:10", prefix: "owl")
        let time = try Self.local(
            F.plan(F.campaign(strategy: .bestTime), owls + [newcomer], start: Self.start), "new", "UTC")
        #expect(time >= ClockTime(hour: 7, minute: 45) && time < ClockTime(hour: 21, minute: 15), "\(time)")
    }

    /// A lapsed user's habits of half a year ago still count (weighted down, but as evidence).
    @Test func oldHistoryOfALapsedUserStillCounts() throws {
        let old = Self.at("Europe/Berlin", "15:10", daysBefore: Array(stride(from: 140, to: 210, by: 9)))
        let users =
            Self.regulars(5, at: "20:10", zone: "Europe/Berlin", prefix: "r")
            + [F.user("lapsed", email: "l@example.com", timezone: "Europe/Berlin", events: old)]
        let time = try Self.local(
            F.plan(F.campaign(strategy: .bestTime), users, start: Self.start), "lapsed", "Europe/Berlin")
        #expect(time >= ClockTime(hour: 14, minute: 45) && time < ClockTime(hour: 15, minute: 15), "\(time)")
    }

    /// A stray Monday event at 03:10 does not outweigh six weeks of 19:10 on the other days: the hour of
    /// week leans on the hour of day. (The old model sent at 03:00, the only Monday slot with activity.)
    @Test func dailyRhythmOutweighsAStrayHourOfWeek() throws {
        let days = Array(1...42).filter { $0 % 7 != 0 }  // every day but Mondays
        let u = F.user(
            "u", email: "u@example.com", timezone: "Asia/Shanghai",
            events: Self.at("Asia/Shanghai", "19:10", daysBefore: days)
                + Self.at("Asia/Shanghai", "03:10", daysBefore: [7]))
        // A 24-hour window over Monday, Shanghai time.
        let monday = F.t("2026-11-22T16:00:00Z")
        let d = F.decide(F.campaign(strategy: .bestTime, within: 24 * 3600), u, start: monday)
        let time = try #require(LocalClock("Asia/Shanghai")).clockTime(try #require(d.sendAt))
        #expect(time >= ClockTime(hour: 18, minute: 45) && time < ClockTime(hour: 19, minute: 15), "\(time)")
    }

    /// A clear weekly rhythm survives the pooling: 08:10 on weekdays, 10:10 at weekends.
    @Test(arguments: [("2026-11-23T00:00:00Z", 8), ("2026-11-28T00:00:00Z", 10)])
    func weekdayAndWeekendHabitsStayApart(_ start: String, _ hour: Int) throws {
        let t0 = F.t(start)
        let clock = try #require(LocalClock("Europe/London"))
        let today = clock.local(t0).date.daysSinceEpoch
        let events = (1...56).map { back -> Int64 in
            let date = CivilDate(daysSinceEpoch: today - Int64(back))
            let weekend = date.weekday == 0 || date.weekday == 6
            return clock.instant(date, ClockTime(hour: weekend ? 10 : 8, minute: 10))
        }
        let u = F.user("c", email: "c@example.com", timezone: "Europe/London", events: events)
        let d = F.decide(F.campaign(strategy: .bestTime, within: 24 * 3600), u, start: t0)
        let time = clock.clockTime(try #require(d.sendAt))
        #expect(
            time >= ClockTime(hour: hour - 1, minute: 45) && time < ClockTime(hour: hour, minute: 15),
            "\(time)")
    }

    /// The prior is a distribution with nothing at night, whatever the aggregates hold.
    @Test func priorIsDaytimeShares() {
        var night = ActivityProfile()
        night.slots[23] = 5
        night.slots[2 * 24 + 1] = 3
        for p in [
            SendTimeModel.prior(segment: ActivityProfile(), everyone: ActivityProfile()),
            SendTimeModel.prior(segment: night, everyone: night),
        ] {
            #expect(abs(p.reduce(0, +) - 1) < 1e-9)
            #expect((0..<168).allSatisfy { SendTimeModel.daytime.contains($0 % 24) || p[$0] == 0 })
        }
    }
}
