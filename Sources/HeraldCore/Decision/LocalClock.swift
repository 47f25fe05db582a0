import Foundation

/// One recipient's wall clock: converts instants to local dates and times and back, with docs/decisions.md DST rules.
///
/// A local time that a DST change skips moves forward by the gap (02:30 → 03:30); one that occurs twice
/// means the first occurrence.
public struct LocalClock: Sendable {
    /// The IANA zone name in use.
    public let name: String
    /// The zone.
    let zone: TimeZone

    /// A clock for `name`, or nil when the zone is unknown.
    public init?(_ name: String, table: ZoneTable = .shared) {
        guard let z = table.zone(name) else { return nil }
        self.name = name
        zone = z
    }

    /// The clock for `name`, else for `fallback` (then UTC); `defaulted` tells whether the fallback was used.
    public static func resolve(_ name: String?, fallback: String, table: ZoneTable = .shared) -> (
        clock: LocalClock, defaulted: Bool
    ) {
        if let name, let c = LocalClock(name, table: table) { return (c, false) }
        return (LocalClock(fallback, table: table) ?? LocalClock("UTC", table: table)!, true)
    }

    /// Seconds east of UTC at `t`.
    public func offset(at t: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t))))
    }

    /// The local date and second of the day at `t`.
    public func local(_ t: Int64) -> (date: CivilDate, secondOfDay: Int) {
        let s = t + offset(at: t)
        let days = s >= 0 ? s / 86_400 : (s - 86_399) / 86_400
        return (CivilDate(daysSinceEpoch: days), Int(s - days * 86_400))
    }

    /// The local time of day at `t`, to the minute.
    public func clockTime(_ t: Int64) -> ClockTime {
        let s = local(t).secondOfDay
        return ClockTime(hour: s / 3600, minute: (s % 3600) / 60)
    }

    /// The instant of local `time` on `date`: skipped times move forward by the gap, repeated ones take the first.
    public func instant(_ date: CivilDate, _ time: ClockTime, second: Int = 0) -> Int64 {
        let wall = date.midnightUTC + Int64(time.hour * 3600 + time.minute * 60 + second)
        // The offsets a day either side bracket any single transition near `wall`.
        let before = offset(at: wall - 86_400)
        let after = offset(at: wall + 86_400)
        var valid: [Int64] = []
        for o in [before, after] where offset(at: wall - o) == o { valid.append(wall - o) }
        if let first = valid.min() { return first }
        // A gap: read the wall time with the offset in force before it, which lands after the gap.
        return wall - before
    }
}

extension QuietHours {
    /// `t` if it is outside quiet hours on the recipient's clock, else the first minute after them (never dropped).
    public func nextAllowed(_ t: Int64, clock: LocalClock) -> Int64 {
        let (date, second) = clock.local(t)
        let now = ClockTime(hour: second / 3600, minute: (second % 3600) / 60)
        guard contains(now) else { return t }
        var endDate = date
        if from > to, now >= from { endDate = CivilDate(daysSinceEpoch: date.daysSinceEpoch + 1) }
        return max(clock.instant(endDate, to), t)
    }

    /// True when quiet hours apply to `channel`.
    public func applies(to channel: ChannelKind) -> Bool { channels.contains(channel) }
}
