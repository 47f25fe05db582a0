/// How `best_time` scores the hours of a delivery window from activity profiles (docs/send-time.md).
///
/// A user's hour-of-week histogram is thin: a handful of events per slot even after months. So the estimate
/// of a slot leans, level by level, on coarser views of the same history and finally on the population:
/// hour of week → the same hour on the same kind of day (weekday or weekend) → the same hour on any day →
/// the prior (the segment's profile leaning on everyone's, daytime only). Each level keeps its own
/// evidence in proportion to how much there is, `(counts + strength × coarser) / (events + strength)`, so a
/// user with three events is mostly the prior nudged towards those three hours, and a user with months of
/// history is mostly themselves; there is no threshold where the answer jumps.
/// A slot's score is then the expected activity within ±1 hour of a send spread over the slot's start.
public enum SendTimeModel {
    /// Pseudo-events with which a user's hour-of-day histogram leans on the prior.
    public static let hourOfDayStrength = 3.0
    /// Pseudo-events with which the weekday/weekend histograms lean on the hour of day.
    public static let dayTypeStrength = 8.0
    /// Pseudo-events with which the hour-of-week histogram leans on the weekday/weekend one.
    public static let hourOfWeekStrength = 32.0
    /// Local hours that the prior keeps in full: without evidence of their own, nobody is sent at night.
    public static let daytime = 8..<21
    /// The share of the population's activity outside `daytime` that the prior keeps: none, so a user
    /// with no history is never sent at night by default (their own night-time events still count).
    public static let nightWeight = 0.0
    /// For a send spread uniformly over [slot start − 15 min, slot start + 15 min) (`SendTimePicker`): the
    /// share of the events of the hours starting 2 and 1 hours before the slot, of the slot's own hour and
    /// of the next that fall within ±1 hour of the send, assuming events spread evenly within an hour
    /// (1/16, 15/16, 15/16, 1/16). The hour before the send counts 0.9 instead of 15/16: of two slots that
    /// cover the same activity, the one just before it wins ("a little before the peak").
    static let coverage = (1.0 / 16, 0.9, 15.0 / 16, 1.0 / 16)

    /// The prior of one planning pass: 168 shares summing to 1, from the audience's and everyone's aggregates
    /// (sums of unit-mass user profiles, so their mass is a number of users).
    public static func prior(segment: ActivityProfile, everyone: ActivityProfile) -> [Double] {
        let uniform = [Double](repeating: 1.0 / 168, count: 168)
        var all = uniform
        blend(everyone.slots, squares: 0, prior: uniform, into: &all)
        var p = uniform
        blend(segment.slots, squares: 0, prior: all, into: &p)
        for i in 0..<168 where !daytime.contains(i % 24) { p[i] *= nightWeight }
        let total = p.reduce(0, +)
        return p.map { $0 / total }
    }

    /// Writes the score of each slot of `window` to `scores[slot]` (other entries are left as they are);
    /// `blended` is scratch space of 168 entries. No allocation: it runs once per user of a pass.
    public static func score(
        _ own: ActivityProfile, prior: [Double], window: WindowSlots, blended: inout [Double],
        into scores: inout [Double]
    ) {
        blend(own.slots, squares: own.squares, prior: prior, into: &blended)
        let (twoBefore, before, at, after) = coverage
        for s in window.slots {
            let i = s.slot
            scores[i] =
                twoBefore * blended[(i + 166) % 168] + before * blended[(i + 167) % 168] + at * blended[i]
                + after * blended[(i + 1) % 168]
        }
    }

    /// The hierarchical estimate of `slots` over `prior` into `out` (168 shares summing to 1).
    ///
    /// With `squares` > 0 the histogram holds decayed event weights and counts as its effective number of
    /// events, (Σw)² / Σw²: the decay shapes it, but old events are still evidence. With 0 it counts as it is.
    static func blend(_ slots: [Double], squares: Double, prior: [Double], into out: inout [Double]) {
        // Unchecked buffers so the two 168-entry passes compile to vector code: this runs once per user.
        slots.withUnsafeBufferPointer { s in
            prior.withUnsafeBufferPointer { p in
                out.withUnsafeMutableBufferPointer { o in blend(s, squares: squares, prior: p, into: o) }
            }
        }
    }

    private static func blend(
        _ slots: UnsafeBufferPointer<Double>, squares: Double, prior: UnsafeBufferPointer<Double>,
        into out: UnsafeMutableBufferPointer<Double>
    ) {
        precondition(slots.count == 168 && prior.count == 168 && out.count == 168)
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 72) { t in
            // 0..<24: any day; 24..<48: weekdays; 48..<72: Saturday and Sunday.
            var total = 0.0
            for h in 0..<24 {
                let weekend = slots[h] + slots[144 + h]
                let weekdays = slots[24 + h] + slots[48 + h] + slots[72 + h] + slots[96 + h] + slots[120 + h]
                (t[h], t[24 + h], t[48 + h]) = (weekdays + weekend, weekdays, weekend)
                total += weekdays + weekend
            }
            let k = squares > 0 ? total / squares : 1
            let n = total * k
            let (c1, c2, c3) = (hourOfDayStrength, dayTypeStrength, hourOfWeekStrength)
            let (a1, a2, a3) = (1 / (n + c1), 1 / (n + c2), 1 / (n + c3))
            // The per-hour parts of the two coarser levels, once per user rather than once per slot:
            // hour of day = t[h]·k/7·a1 + c1·a1·prior; day type = t[kind+h]·k/days·a2 + c2·a2·(hour of day).
            for h in 0..<24 { t[h] *= k / 7 * a1 }
            for h in 24..<48 { t[h] *= k / 5 * a2 }
            for h in 48..<72 { t[h] *= k / 2 * a2 }
            let (p1, p2, own, p3) = (c1 * a1, c2 * a2, k * a3, c3 * a3)
            for d in 0..<7 {
                let kind = d == 0 || d == 6 ? 48 : 24
                for h in 0..<24 {
                    let i = d * 24 + h
                    let hourOfDay = t[h] + p1 * prior[i]
                    out[i] = own * slots[i] + p3 * (t[kind + h] + p2 * hourOfDay)
                }
            }
        }
    }
}
