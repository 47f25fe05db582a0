import Foundation
import HeraldCore

/// Learn profiles from 8 weeks of synthetic activity, plan one send per user on each day of week 9, and count
/// the sends within ±1 hour of an actual week-9 activity of that user.
enum Quality {
    static func run(users n: Int) {
        var rng = Rng(state: 42)
        let week9 = CivilDate(year: 2026, month: 11, day: 16).daysSinceEpoch  // a Monday
        var people: [Person] = []
        var history: [[Int64]] = []
        var scored: [[Int64]] = []
        for _ in 0..<n {
            let p = Synthetic.person(&rng)
            people.append(p)
            history.append(Synthetic.events(p, fromDay: week9 - 56, toDay: week9, away: false, rng: &rng))
            scored.append(
                Synthetic.events(p, fromDay: week9, toDay: week9 + 7, away: p.travelShift != 0, rng: &rng))
        }
        let ids = (0..<n).map { "p\($0)" }
        let snapshot = Synthetic.snapshot(
            ids: ids, zones: people.map(\.zone), events: history, countries: Array(repeating: 0, count: n))
        let everyone = compile("id != \"\"")

        // The population's single best local hour of day, from the same 8 weeks.
        var hours = [Double](repeating: 0, count: 24)
        for (i, p) in people.enumerated() {
            let clock = LocalClock(p.zone)!
            for t in history[i] { hours[clock.local(t).secondOfDay / 3600] += 1 }
        }
        let bestHour = hours.indices.max { hours[$0] < hours[$1] }!

        func hit(_ user: Int, _ at: Int64) -> Bool {
            let e = scored[user]
            var lo = 0
            var hi = e.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if e[mid] < at - 3600 { lo = mid + 1 } else { hi = mid }
            }
            return lo < e.count && e[lo] <= at + 3600
        }

        let strategies: [(String, Campaign)] = [
            ("best_time", campaign(.bestTime, within: 86_400, segment: everyone)),
            (
                "fixed 10:00 local",
                campaign(
                    .localTime, within: 86_400, localTime: ClockTime(hour: 10, minute: 0), segment: everyone)
            ),
            (
                "population best hour (\(bestHour):00 local)",
                campaign(
                    .localTime, within: 86_400, localTime: ClockTime(hour: bestHour, minute: 0),
                    segment: everyone)
            ),
        ]
        var results: [(String, Double)] = []
        for (name, c) in strategies {
            var hits = 0
            var sends = 0
            for day in 0..<7 {
                let start = (week9 + Int64(day)) * 86_400
                let env = EvaluationEnvironment(now: start)
                let inputs = PlanningInputs(
                    snapshot: snapshot, population: .empty, environment: env, policy: PolicyConfig())
                for d in DecisionPipeline(campaign: c, occurrence: Occurrence(start: start), inputs: inputs)
                    .plan()
                {
                    guard let at = d.sendAt else { continue }
                    sends += 1
                    if hit(d.row, at) { hits += 1 }
                }
            }
            results.append((name, Double(hits) / Double(max(sends, 1))))
        }
        let travellers = people.filter { $0.travelShift != 0 }.count
        print(
            "send-time quality: \(n) users (\(travellers) travelling in week 9), 8 weeks learned, 7 daily occurrences scored"
        )
        for (name, score) in results {
            print(
                String(
                    format: "  %-34@ %5.1f%% of sends within ±1 h of an activity", name as NSString,
                    score * 100))
        }
        print(
            String(
                format: "  best_time / fixed 10:00 = %.2fx (target ≥ 2x)",
                results[0].1 / max(results[1].1, 1e-9)))
    }
}
