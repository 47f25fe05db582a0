import Foundation
import HeraldCore

/// One campaign occurrence planned over N users: segment, consent, caps (adaptive), best_time, experiment.
enum Scale {
    static func run(users n: Int) {
        var rng = Rng(state: 7)
        let now = CivilDate(year: 2026, month: 11, day: 23).midnightUTC + 9 * 3600
        let zones = Synthetic.zones
        var zoneOf: [String] = []
        var events: [[Int64]] = []
        var countries: [Int32] = []
        zoneOf.reserveCapacity(n)
        events.reserveCapacity(n)
        for _ in 0..<n {
            let z = rng.int(zones.count)
            zoneOf.append(zones[z])
            let peak = Int64(7 + rng.int(16))
            let count = rng.int(20)
            var e: [Int64] = []
            e.reserveCapacity(count)
            for _ in 0..<count {
                let day = Int64(1 + rng.int(56))
                e.append(now - day * 86_400 + (peak - 9) * 3600 + Int64(rng.int(3600)))
            }
            events.append(e.sorted())
            countries.append(Int32(rng.int(5)))
        }
        let ids = (0..<n).map { "user-\($0)" }
        let snapshot = Synthetic.snapshot(ids: ids, zones: zoneOf, events: events, countries: countries)
        events = []
        var consent: [String: ConsentState] = [:]
        var suppressions: [String: [String]] = [:]
        var history: [String: [SendRecord]] = [:]
        for i in 0..<n {
            let r = rng.unit()
            if r < 0.01 {
                consent[ids[i]] = ConsentState(global: true)
            } else if r < 0.04 {
                consent[ids[i]] = ConsentState(topics: ["promotions"])
            } else if r < 0.05 {
                consent[ids[i]] = ConsentState(channels: ["email"])
            }
            if rng.unit() < 0.005 { suppressions["\(ids[i])@example.com"] = ["bounces"] }
            if rng.unit() < 0.2 {
                history[ids[i]] = [
                    SendRecord(at: now - 2 * 86_400, channel: .email, topic: "promotions", campaign: "other")
                ]
            }
        }
        let policy = PolicyConfig(
            caps: [
                CapRule(scope: .anyChannel, max: 3, per: 7 * 86_400),
                CapRule(scope: .channel(.sms), max: 1, per: 86_400),
                CapRule(scope: .topic("promotions"), max: 2, per: 7 * 86_400),
            ], adaptiveCaps: true,
            quietHours: QuietHours(
                from: ClockTime(hour: 21, minute: 0), to: ClockTime(hour: 8, minute: 0), channels: [.sms]))
        let segment = compile(
            "country in [\"US\", \"CN\", \"DE\", \"GB\"] and days_since(last_seen_at) <= 30")
        let experiment = Campaign.Experiment(
            holdoutPercent: 10,
            variants: [Campaign.Variant(id: "a", weight: 50), Campaign.Variant(id: "b", weight: 50)])
        let c = campaign(.bestTime, within: 48 * 3600, segment: segment, experiment: experiment)
        let env = EvaluationEnvironment(now: now)
        let built = peakMiB()
        let (population, statsTime) = seconds { PopulationStats.compute(snapshot, env) }
        let inputs = PlanningInputs(
            snapshot: snapshot, population: population, environment: env, policy: policy, consent: consent,
            suppressions: suppressions, history: history)
        let pipeline = DecisionPipeline(campaign: c, occurrence: Occurrence(start: now), inputs: inputs)
        let (mask, maskTime) = seconds { pipeline.audienceMask() }
        print(String(format: "  segment alone: %.2f s for %d matches", maskTime, mask.filter { $0 }.count))
        let cpu0 = cpuSeconds()
        let (decisions, planTime) = seconds { pipeline.plan() }
        let planCPU = cpuSeconds() - cpu0
        var outcomes: [String: Int] = [:]
        for d in decisions { outcomes["\(d.outcome.rawValue) \(d.reason ?? "")", default: 0] += 1 }
        print(
            "scale: \(n) users, \(snapshot.allEvents.timestamps.count) events, \(decisions.count) in the audience"
        )
        print(
            String(
                format:
                    "  population stats %.2f s, plan (segment + consent + caps + best_time) %.2f s, total %.2f s",
                statsTime, planTime, statsTime + planTime))
        print(String(format: "  plan CPU time %.2f s over all threads", planCPU))
        print(String(format: "  peak RSS %.0f MiB (%.0f MiB after building the inputs)", peakMiB(), built))
        for (k, v) in outcomes.sorted(by: { $0.value > $1.value }) { print("  \(v)\t\(k)") }
    }
}
