import Foundation

/// Population-level facts needed by single-user evaluation: the RFM distributions at `env.now`.
public struct PopulationStats: Sendable, Hashable {
    /// No purchasers: every RFM score is null.
    public static let empty = PopulationStats(recency: [], frequency: [], monetary: [])

    /// Days since the last purchase of each purchaser, ascending.
    var recency: [Int64]
    /// Purchase counts, ascending.
    var frequency: [Int]
    /// Purchase amount sums, ascending.
    var monetary: [Double]

    /// Number of users with at least one purchase inside the RFM window.
    public var purchasers: Int { frequency.count }

    /// The distributions over every row of `snapshot` (its `purchase` events with `amount`).
    public static func compute(_ snapshot: AudienceSnapshot, _ env: EvaluationEnvironment) -> PopulationStats {
        guard let col = snapshot.events["purchase"] else { return .empty }
        let amounts = col.numbers["amount"]
        var r: [Int64] = []
        var f: [Int] = []
        var m: [Double] = []
        for i in 0..<snapshot.count {
            if let raw = DerivedFields.rfmRaw(col.timestamps, amounts, col.range(i), env) {
                r.append(raw.r)
                f.append(raw.f)
                m.append(raw.m)
            }
        }
        return PopulationStats(recency: r.sorted(), frequency: f.sorted(), monetary: m.sorted())
    }

    /// Quintile scores 1–5 for one purchaser's raw values (docs/segments.md formula).
    func scores(r: Int64, f: Int, m: Double) -> (r: Int, f: Int, m: Int)? {
        let n = frequency.count
        guard n > 0 else { return nil }
        func score(_ k: Int) -> Int { min(5, 1 + (5 * k) / n) }
        let fSmaller = Self.lowerBound(frequency, f)
        let mSmaller = Self.lowerBound(monetary, m)
        let rLarger = n - Self.upperBound(recency, r)
        return (score(rLarger), score(fSmaller), score(mSmaller))
    }

    /// One quintile score of `scores(r:f:m:)`, with only the search that part needs (bulk evaluation
    /// of `rfm_m >= 4 and rfm_f >= 4` over a million rows asks for two parts, not six searches).
    func score(_ part: RFMPart, r: Int64, f: Int, m: Double) -> Int? {
        let n = frequency.count
        guard n > 0 else { return nil }
        let k: Int
        switch part {
        case .r: k = n - Self.upperBound(recency, r)
        case .f: k = Self.lowerBound(frequency, f)
        case .m: k = Self.lowerBound(monetary, m)
        }
        return min(5, 1 + (5 * k) / n)
    }

    private static func lowerBound<T: Comparable>(_ a: [T], _ v: T) -> Int {
        var lo = 0
        var hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private static func upperBound<T: Comparable>(_ a: [T], _ v: T) -> Int {
        var lo = 0
        var hi = a.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if a[mid] <= v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// Derived fields for display (`herald users show`) and for the evaluators.
public enum DerivedFields {
    /// "Seen": the latest of the user's events at or before `now`, an imported `last_seen_at` at or before `now`, and `created_at`.
    public static func lastSeen(_ facts: UserFacts, now: Int64) -> Int64? {
        let t = facts.allEventTimes
        let seen = seen(t, 0..<t.count, createdAt: facts.profile.createdAt ?? AudienceSnapshot.nullTime,
            imported: facts.profile.lastSeenAt ?? AudienceSnapshot.nullTime, now: now)
        return seen == AudienceSnapshot.nullTime ? nil : seen
    }

    /// The lifecycle stage of docs/segments.md, or nil when the user was never seen and has no `created_at`.
    public static func lifecycle(_ facts: UserFacts, _ env: EvaluationEnvironment) -> LifecycleStage? {
        let t = facts.allEventTimes
        return stage(t, 0..<t.count, createdAt: facts.profile.createdAt ?? AudienceSnapshot.nullTime,
            imported: facts.profile.lastSeenAt ?? AudienceSnapshot.nullTime, env)
    }

    /// The RFM quintile scores (1–5) against `population`, nil without a purchase inside the RFM window.
    public static func rfm(_ facts: UserFacts, _ env: EvaluationEnvironment, population: PopulationStats)
        -> (r: Int, f: Int, m: Int)?
    {
        guard let series = facts.events["purchase"] else { return nil }
        let t = series.timestamps
        guard let raw = rfmRaw(t, series.numbers["amount"], 0..<t.count, env) else { return nil }
        return population.scores(r: raw.r, f: raw.f, m: raw.m)
    }

    /// Seen time over one user's ascending event times in `r`; `nullTime` marks missing inputs and the result.
    @inline(__always) static func seen(_ times: [Int64], _ r: Range<Int>, createdAt: Int64, imported: Int64, now: Int64)
        -> Int64
    {
        let hi = SegmentMath.upperBound(times, r, now)
        var s = hi > r.lowerBound ? times[hi - 1] : AudienceSnapshot.nullTime
        if imported != AudienceSnapshot.nullTime && imported <= now { s = max(s, imported) }
        return max(s, createdAt)
    }

    /// The lifecycle rule of docs/segments.md over one user's ascending event times in `r`.
    ///
    /// "Within w" means `t >= now - w` (a `created_at` later than `now` counts as within).
    static func stage(_ times: [Int64], _ r: Range<Int>, createdAt: Int64, imported: Int64, _ env: EvaluationEnvironment)
        -> LifecycleStage?
    {
        let now = env.now
        let th = env.lifecycle
        if createdAt != AudienceSnapshot.nullTime && createdAt >= SegmentMath.windowStart(now, th.newWithin) {
            return .new
        }
        let hi = SegmentMath.upperBound(times, r, now)
        var seen = hi > r.lowerBound ? times[hi - 1] : AudienceSnapshot.nullTime
        if imported != AudienceSnapshot.nullTime && imported <= now { seen = max(seen, imported) }
        seen = max(seen, createdAt)
        if seen == AudienceSnapshot.nullTime { return nil }
        let activeStart = SegmentMath.windowStart(now, th.activeWithin)
        if seen >= activeStart {
            let firstIn = SegmentMath.lowerBound(times, r.lowerBound..<hi, activeStart)
            if firstIn < hi {
                let before = firstIn > r.lowerBound ? times[firstIn - 1] : createdAt
                if before != AudienceSnapshot.nullTime {
                    let (gap, o) = times[firstIn].subtractingReportingOverflow(before)
                    if o || gap >= th.dormantAfter { return .returning }
                }
            }
            return .active
        }
        if seen >= SegmentMath.windowStart(now, th.dormantAfter) { return .lapsing }
        if seen >= SegmentMath.windowStart(now, th.churnedAfter) { return .dormant }
        return .churned
    }

    /// Raw RFM values over purchases in `r` inside the RFM window: whole days since the last, count, amount sum.
    @inline(__always) static func rfmRaw(_ times: [Int64], _ amounts: [Double]?, _ r: Range<Int>, _ env: EvaluationEnvironment)
        -> (r: Int64, f: Int, m: Double)?
    {
        let lo = SegmentMath.lowerBound(times, r, SegmentMath.windowStart(env.now, env.lifecycle.rfmWindow))
        let hi = SegmentMath.upperBound(times, lo..<r.upperBound, env.now)
        guard hi > lo else { return nil }
        var m = 0.0
        if let amounts {
            for k in lo..<hi where !amounts[k].isNaN { m += amounts[k] }
        }
        let days = SegmentMath.daysSince(times[hi - 1], now: env.now)
        return (Int64(days), hi - lo, m)
    }

    /// The user's local date at `now`: their zone when valid, else `defaultZone`, else UTC.
    static func localDate(zone: String?, defaultZone: String, now: Int64) -> CivilDate {
        let table = ZoneTable.shared
        let off = zone.flatMap { table.offset($0, at: now) } ?? table.offset(defaultZone, at: now) ?? 0
        return CivilDate(epochSeconds: now, offset: off)
    }

    /// The dates `is_birthday()` tests for a user in `zone` (true when the birthday is any of them): their local
    /// dates of the sends in a `local_time` campaign, else their local date at `now`.
    static func birthdayDates(zone: String?, _ env: EvaluationEnvironment) -> [CivilDate] {
        if let day = env.localSendDay {
            return day.dates(on: LocalClock.resolve(zone, fallback: env.defaultTimeZone).clock)
        }
        return [localDate(zone: zone, defaultZone: env.defaultTimeZone, now: env.now)]
    }

    /// True when `birthday` falls on `today` (29 February is kept on 28 February in non-leap years).
    @inline(__always) static func isBirthday(_ birthday: CivilDate, today: CivilDate) -> Bool {
        if birthday.month == today.month && birthday.day == today.day { return true }
        return birthday.month == 2 && birthday.day == 29 && today.month == 2 && today.day == 28
            && !CivilDate.isLeap(today.year)
    }
}
