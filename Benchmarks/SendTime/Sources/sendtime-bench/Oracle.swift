import Foundation
import HeraldCore

/// The ceiling: a picker that knows each user's true rhythm (the generator's parameters) and sends at the
/// 10-minute step of the window where the expected number of sessions within ±1 hour is highest.
enum Oracle {
    /// P(a ≤ X ≤ b) for X normal with mean 0 and standard deviation `sd`.
    static func mass(_ a: Double, _ b: Double, sd: Double) -> Double {
        0.5 * (erf(b / (sd * 2.0.squareRoot())) - erf(a / (sd * 2.0.squareRoot())))
    }

    /// Expected sessions of `r` within ±1 hour of the local wall time `wall` (seconds since the epoch).
    static func expected(_ r: Rhythm, wall: Int64) -> Double {
        let day = wall >= 0 ? wall / 86_400 : (wall - 86_399) / 86_400
        let sd = r.sd * 0.5.squareRoot()  // Rng.normal has variance 1/2
        let perDay = max(r.sessions, 1)
        var total = 0.0
        for d in (day - 2)...(day + 1) {
            let wd = CivilDate(daysSinceEpoch: d).weekday
            let active = r.activeDay[wd] * perDay
            let peaks = r.peaks[wd]
            let sum = peaks.reduce(0) { $0 + $1.weight }
            var p = 0.0
            for peak in peaks {
                let x = Double(wall - d * 86_400) / 3600 - peak.hour
                p += peak.weight / sum * mass(x - 1, x + 1, sd: sd)
            }
            total += active * (1 - r.noise) * p
        }
        return total + r.activeDay[CivilDate(daysSinceEpoch: day).weekday] * perDay * r.noise * 2 / 24
    }

    /// The oracle's send instant in `[from, to)`.
    static func pick(_ r: Rhythm, clock: LocalClock, from: Int64, to: Int64) -> Int64 {
        var best = from
        var score = -1.0
        var t = from
        while t < to {
            let s = expected(r, wall: t + clock.offset(at: t))
            if s > score {
                score = s
                best = t
            }
            t += 600
        }
        return best
    }
}
