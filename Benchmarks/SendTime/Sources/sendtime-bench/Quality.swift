import Foundation
import HeraldCore

/// Learns from `weeks` of synthetic history, plans one send per user on each day of the held-out week
/// (24-hour windows from 00:00 UTC, planned at the window's start) and scores each send as a hit when the
/// user has a held-out event within ±1 hour of it.
enum Quality {
    struct Tally {
        var hits = [Int](repeating: 0, count: 4)
        var sends = [Int](repeating: 0, count: 4)
        /// Sends per group that land at 22:00–05:59 local.
        var late = [Int](repeating: 0, count: 4)
        var byKind: [String: (Int, Int)] = [:]

        mutating func add(_ a: Audience, row: Int, at: Int64, clock: LocalClock) {
            let g = a.groups[row].rawValue
            let hit = a.hit(row, at)
            sends[g] += 1
            if hit { hits[g] += 1 }
            if a.groups[row] == .rhythmic {
                let k = a.moved.contains(row) ? "changed habits 4 weeks ago" : a.rhythms[row].kind.rawValue
                let (h, s) = byKind[k] ?? (0, 0)
                byKind[k] = (h + (hit ? 1 : 0), s + 1)
            }
            let hour = clock.local(at).secondOfDay / 3600
            if hour >= 22 || hour < 6 { late[g] += 1 }
        }

        func share(_ g: Int) -> Double { Double(hits[g]) / Double(max(sends[g], 1)) * 100 }
        func lateShare(_ g: Int) -> Double { Double(late[g]) / Double(max(sends[g], 1)) * 100 }
        var overall: Double { Double(hits.reduce(0, +)) / Double(max(sends.reduce(0, +), 1)) * 100 }
    }

    static func run(users n: Int, weeks: Int, seed: UInt64, byKind: Bool) {
        let a = Audience.generate(users: n, weeks: weeks, seed: seed)
        let snapshot = a.snapshot()
        var clocks: [String: LocalClock] = [:]
        for z in Rhythm.zones { clocks[z] = LocalClock(z)! }
        let popHour = Baselines.populationHour(a, clocks: clocks)
        let everyone = compile("id != \"\"")
        let names = [
            "(a) best_time before (original model)",
            "(b) population's best hour (\(popHour):00 local)",
            "(c) per-user hour-of-week reference",
            "(d) best_time (this build's DecisionPipeline)",
            "(e) ceiling: the true rhythm known",
        ]
        var tallies = [Tally](repeating: Tally(), count: names.count)
        var pipelineSeconds = 0.0
        for day in 0..<7 {
            let start = Audience.evaluationStart + Int64(day) * 86_400
            let end = start + 86_400
            let picker = SendTimePicker(windowStart: start, windowEnd: end, now: start)
            var caches: [String: (ZoneOffsetCache, WindowSlots)] = [:]
            for (z, c) in clocks {
                caches[z] = (
                    ZoneOffsetCache(
                        clock: c, from: start - 60 * 604_800, to: end),
                    WindowSlots(clock: c, from: start, to: end)
                )
            }
            let original = Baselines.Original(a, now: start) { caches[a.rhythms[$0].zone]!.0 }
            for row in 0..<n {
                let zone = a.rhythms[row].zone
                let (offsets, slots) = caches[zone]!
                let clock = clocks[zone]!
                let spread = AssignmentHash.hash("spread", "bench", "u\(row)")
                if let at = original.pick(
                    a, row: row, picker: picker, slots: slots, offsets: offsets, spread: spread)
                {
                    tallies[0].add(a, row: row, at: at, clock: clock)
                }
                tallies[4].add(
                    a, row: row, at: Oracle.pick(a.rhythms[row], clock: clock, from: start, to: end),
                    clock: clock)
                if let at = Baselines.hourOfWeek(
                    a, row: row, clock: clock, picker: picker, slots: slots, populationHour: popHour)
                {
                    tallies[2].add(a, row: row, at: at, clock: clock)
                }
            }
            let inputs = PlanningInputs(
                snapshot: snapshot, population: .empty, environment: EvaluationEnvironment(now: start),
                policy: PolicyConfig())
            let pop = campaign(.localTime, localTime: ClockTime(hour: popHour, minute: 0), segment: everyone)
            for d in DecisionPipeline(campaign: pop, occurrence: Occurrence(start: start), inputs: inputs)
                .plan()
            {
                guard let at = d.sendAt else { continue }
                tallies[1].add(a, row: d.row, at: at, clock: clocks[a.rhythms[d.row].zone]!)
            }
            let best = DecisionPipeline(
                campaign: campaign(.bestTime, segment: everyone), occurrence: Occurrence(start: start),
                inputs: inputs)
            let (decisions, s) = seconds { best.plan() }
            pipelineSeconds += s
            for d in decisions {
                guard let at = d.sendAt else { continue }
                tallies[3].add(a, row: d.row, at: at, clock: clocks[a.rhythms[d.row].zone]!)
            }
        }
        report(a, names: names, tallies: tallies, weeks: weeks, seed: seed, byKind: byKind)
        print(String(format: "  (best_time planning: %.2f s for 7 × %d users)", pipelineSeconds, n))
    }

    static func report(
        _ a: Audience, names: [String], tallies: [Tally], weeks: Int, seed: UInt64, byKind: Bool
    ) {
        let counts = Audience.Group.allCases.map { g in a.groups.filter { $0 == g }.count }
        print(
            "send-time quality: \(a.groups.count) users (seed \(seed)): \(counts[0]) rhythmic with \(weeks) weeks of "
                + "history, \(counts[1]) new with 1–5 events, \(counts[2]) lapsed with 3–15 events 13–40 weeks old, "
                + "\(counts[3]) with none; 7 daily 24 h windows "
                + "from \(TimestampParser.formatUTC(seconds: Audience.evaluationStart)), held-out week")
        print("share of sends within ±1 h of a held-out activity of that user:")
        let header = [
            "strategy", "rhythmic", "new (1–5)", "lapsed", "no history", "all",
            "22–06 h: new / lapsed / none",
        ]
        print(
            "| " + header.joined(separator: " | ") + " |\n|"
                + String(repeating: "---|", count: header.count))
        for (name, t) in zip(names, tallies) {
            print(
                String(
                    format:
                        "| %@ | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %.0f / %.0f / %.0f %% |",
                    name as NSString, t.share(0), t.share(1), t.share(2), t.share(3), t.overall,
                    t.lateShare(1),
                    t.lateShare(2), t.lateShare(3)))
        }
        guard byKind else { return }
        print("rhythmic users by persona, hits / sends:")
        for kind in Rhythm.Kind.allCases.map(\.rawValue) + ["changed habits 4 weeks ago"] {
            let cells = tallies.map { t -> String in
                let (h, s) = t.byKind[kind] ?? (0, 0)
                return String(format: "%.1f %%", Double(h) / Double(max(s, 1)) * 100)
            }
            print("  \(kind): " + cells.joined(separator: "  "))
        }
    }
}
