import Foundation
import HeraldCore

/// Planning cost of best_time: one campaign with a 48-hour window over N users (0–19 events each in the
/// last 8 weeks, 12 zones), against the same campaign with local_time, best of three runs each.
enum Speed {
    static func run(users n: Int) {
        var rng = Rng(state: 11)
        let now = Audience.evaluationStart + 9 * 3600
        var a = Audience()
        a.rhythms.reserveCapacity(n)
        a.history.reserveCapacity(n)
        let template = Rhythm.random(&rng)
        for _ in 0..<n {
            var r = template
            r.zone = Rhythm.zones[rng.int(Rhythm.zones.count)]
            a.rhythms.append(r)
            let peak = Int64(7 + rng.int(16))
            var e: [Int64] = []
            for _ in 0..<rng.int(20) {
                e.append(now - Int64(1 + rng.int(56)) * 86_400 + (peak - 9) * 3600 + Int64(rng.int(3600)))
            }
            a.history.append(e.sorted())
        }
        let snapshot = a.snapshot()
        a = Audience()
        let inputs = PlanningInputs(
            snapshot: snapshot, population: .empty, environment: EvaluationEnvironment(now: now),
            policy: PolicyConfig())
        let everyone = compile("id != \"\"")
        print(
            String(
                format: "speed: SendTimeModel.score alone: %.0f ns per user (one thread)",
                model(calls: 2_000_000)))
        print("speed: \(n) users, \(snapshot.allEvents.timestamps.count) events, one 48 h occurrence")
        for (name, strategy) in [("local_time", Campaign.SendStrategy.localTime), ("best_time", .bestTime)] {
            let c = campaign(
                strategy, within: 48 * 3600, localTime: ClockTime(hour: 10, minute: 0), segment: everyone)
            let pipeline = DecisionPipeline(campaign: c, occurrence: Occurrence(start: now), inputs: inputs)
            var wall = Double.infinity
            var cpu = Double.infinity
            var sends = 0
            for _ in 0..<3 {
                let c0 = cpuSeconds()
                let (d, s) = seconds { pipeline.plan() }
                wall = min(wall, s)
                cpu = min(cpu, cpuSeconds() - c0)
                sends = d.filter { $0.sendAt != nil }.count
            }
            print(
                String(
                    format: "  %@: plan %.2f s wall, %.2f s CPU (best of 3), %d sends", name as NSString,
                    wall, cpu, sends))
        }
    }

    /// The per-user cost of `SendTimeModel.score` alone, one thread: nanoseconds per call.
    static func model(calls: Int) -> Double {
        var rng = Rng(state: 3)
        let clock = LocalClock("Europe/Berlin")!
        let now = Audience.evaluationStart
        let offsets = ZoneOffsetCache(clock: clock, from: now - 60 * 604_800, to: now + 2 * 86_400)
        let profiles = (0..<1000).map { _ in
            var p = ActivityProfile()
            p.add(
                (0..<rng.int(40)).map { _ in now - Int64(rng.int(20 * 604_800)) }, now: now, offsets: offsets)
            return p
        }
        let window = WindowSlots(clock: clock, from: now, to: now + 2 * 86_400)
        let prior = SendTimeModel.prior(segment: profiles[0], everyone: profiles[1])
        var blended = [Double](repeating: 0, count: 168)
        var scores = [Double](repeating: 0, count: 168)
        var sink = 0.0
        let c0 = cpuSeconds()
        for i in 0..<calls {
            SendTimeModel.score(
                profiles[i % 1000], prior: prior, window: window, blended: &blended, into: &scores)
            sink += scores[window.slots[i % window.slots.count].slot]
        }
        let ns = (cpuSeconds() - c0) / Double(calls) * 1e9
        if sink.isNaN { print("") }
        return ns
    }
}
