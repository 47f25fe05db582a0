import HeraldCore

/// HeraldCore's SplitMix64 generator (the sample audience's), so every run sees the same audience.
typealias Rng = SeededGenerator

extension SeededGenerator {
    init(state: UInt64) { self.init(seed: state) }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func range(_ lo: Double, _ hi: Double) -> Double { lo + unit() * (hi - lo) }
    /// Approximately standard normal (sum of uniforms).
    mutating func normal() -> Double { (0..<6).reduce(0) { s, _ in s + unit() } - 3 }
}

/// One person's own rhythm: for each weekday, the local hours they tend to be active at, and how likely
/// they are to be active at all that day. Nothing is shared between people except the persona's shape.
struct Rhythm {
    enum Kind: String, CaseIterable {
        case commuter, lunch, evening
        case nightOwl = "night owl"
        case weekly
        case twoPeaks = "two peaks"
    }
    /// A habitual session time: local hour (may exceed 24: past midnight) and relative weight.
    struct Peak {
        var hour: Double
        var weight: Double
    }

    var kind: Kind
    var zone: String
    /// Peaks per weekday, 0 = Sunday.
    var peaks: [[Peak]]
    /// Probability of any activity on each weekday.
    var activeDay: [Double]
    /// Mean sessions on an active day.
    var sessions: Double
    /// Spread of a session around its peak, hours.
    var sd: Double
    /// Share of sessions at a uniformly random hour.
    var noise: Double

    static let zones = [
        "America/New_York", "America/Los_Angeles", "America/Sao_Paulo", "Europe/London", "Europe/Berlin",
        "Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Sydney", "Australia/Lord_Howe",
        "Pacific/Chatham", "UTC",
    ]

    /// A random person: a persona, shifted and scaled by personal habits.
    static func random(_ rng: inout Rng) -> Rhythm {
        // Evenings are the most common habit, then commutes and two-peak days.
        let mix: [(Kind, Double)] = [
            (.commuter, 0.2), (.lunch, 0.12), (.evening, 0.28), (.nightOwl, 0.12), (.weekly, 0.1),
            (.twoPeaks, 0.18),
        ]
        var draw = rng.unit()
        var kind = Kind.twoPeaks
        for (k, w) in mix {
            draw -= w
            if draw < 0 {
                kind = k
                break
            }
        }
        let zone = zones[rng.int(zones.count)]
        var weekday: [Peak] = []
        var weekend: [Peak] = []
        var activeDay = [Double](repeating: rng.range(0.7, 1), count: 7)
        switch kind {
        case .commuter:  // e.g. 08:00 on the train, 10:00 at the weekend
            let h = rng.range(7, 8.75)
            weekday = [Peak(hour: h, weight: 1)]
            weekend = [Peak(hour: h + rng.range(1.5, 3), weight: 1)]
            if rng.unit() < 0.4 { weekday.append(Peak(hour: rng.range(17.5, 19), weight: 0.4)) }
        case .lunch:
            let h = rng.range(12, 13.5)
            weekday = [Peak(hour: h, weight: 1)]
            weekend = [Peak(hour: rng.range(14, 17), weight: 1)]
            activeDay[0] *= 0.5
            activeDay[6] *= 0.5
        case .evening:
            let h = rng.range(18.5, 21.5)
            weekday = [Peak(hour: h, weight: 1)]
            weekend = [Peak(hour: h + rng.range(-1, 1.5), weight: 1)]
        case .nightOwl:
            let h = rng.range(22.5, 25)
            weekday = [Peak(hour: h, weight: 1)]
            weekend = [Peak(hour: h + rng.range(0.5, 2), weight: 1)]
        case .weekly:  // a few fixed days: after the gym, the Sunday planner
            let h = rng.range(9, 21)
            weekday = [Peak(hour: h, weight: 1)]
            weekend = [Peak(hour: rng.range(9, 21), weight: 1)]
            let days = Set((0..<3).map { _ in rng.int(7) })
            for d in 0..<7 { activeDay[d] = days.contains(d) ? rng.range(0.8, 1) : 0.12 }
        case .twoPeaks:
            let m = rng.range(6.5, 9)
            let e = rng.range(19.5, 22.5)
            let w = rng.range(0.3, 0.7)
            weekday = [Peak(hour: m, weight: w), Peak(hour: e, weight: 1 - w)]
            weekend = [Peak(hour: rng.range(10, 12), weight: 0.5), Peak(hour: e, weight: 0.5)]
        }
        let peaks = (0..<7).map { d in d == 0 || d == 6 ? weekend : weekday }
        return Rhythm(
            kind: kind, zone: zone, peaks: peaks, activeDay: activeDay, sessions: rng.range(0.6, 2),
            sd: rng.range(0.15, 0.6), noise: rng.range(0.05, 0.3))
    }

    /// Event timestamps over the local days `[fromDay, toDay)`, sorted; sessions are bursts of 1–3 events.
    func events(fromDay: Int64, toDay: Int64, rng: inout Rng) -> [Int64] {
        let clock = LocalClock(zone)!
        var out: [Int64] = []
        for day in fromDay..<toDay {
            let date = CivilDate(daysSinceEpoch: day)
            guard rng.unit() < activeDay[date.weekday] else { continue }
            var n = 0
            var budget = sessions
            while budget > 0 {
                if rng.unit() < min(budget, 1) { n += 1 }
                budget -= 1
            }
            let dayPeaks = peaks[date.weekday]
            let total = dayPeaks.reduce(0) { $0 + $1.weight }
            for _ in 0..<max(n, 1) {
                var hour: Double
                if rng.unit() < noise {
                    hour = rng.unit() * 24
                } else {
                    var r = rng.unit() * total
                    var peak = dayPeaks[0]
                    for p in dayPeaks {
                        peak = p
                        r -= p.weight
                        if r <= 0 { break }
                    }
                    hour = peak.hour + rng.normal() * sd
                }
                // Hours past midnight belong to the next local day.
                let shift = Int64((hour / 24).rounded(.down))
                hour -= Double(shift) * 24
                let seconds = Int(hour * 3600)
                let t = clock.instant(
                    CivilDate(daysSinceEpoch: day + shift),
                    ClockTime(hour: seconds / 3600, minute: (seconds % 3600) / 60), second: seconds % 60)
                var k = t
                for _ in 0..<(1 + rng.int(3)) {
                    out.append(k)
                    k += Int64(30 + rng.int(240))
                }
            }
        }
        return out.sorted()
    }
}
