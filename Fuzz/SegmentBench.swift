// Timing of bulk and single-user segment evaluation; built by Fuzz/bench.sh with swiftc -O.
import Foundation

@main
struct SegmentBench {
    static func main() {
        let n = 1_000_000
        let now: Int64 = 1_795_000_000
        let day: Int64 = 86_400
        var rng = SystemRandomNumberGenerator()
        var snap = AudienceSnapshot()
        snap.ids = (0..<n).map { "u\($0)" }
        snap.email = Array(repeating: nil, count: n)
        snap.phone = Array(repeating: nil, count: n)
        snap.locale = Array(repeating: nil, count: n)
        snap.timezone = Array(repeating: -1, count: n)
        snap.createdAt = (0..<n).map { _ in now - Int64.random(in: 0...(400 * day), using: &rng) }
        snap.lastSeenImported = Array(repeating: AudienceSnapshot.nullTime, count: n)
        snap.birthday = Array(repeating: AudienceSnapshot.nullTime, count: n)
        snap.engagement = Array(repeating: .nan, count: n)
        snap.attributes["country"] = .string(
            codes: (0..<n).map { _ in Int32.random(in: -1...4, using: &rng) }, dictionary: ["CN", "HK", "US", "DE", "FR"])
        snap.attributes["plan"] = .string(
            codes: (0..<n).map { _ in Int32.random(in: 0...2, using: &rng) }, dictionary: ["free", "pro", "team"])
        snap.attributes["avg_order_value"] = .number((0..<n).map { _ in Double.random(in: 0...100, using: &rng) })
        func column(_ perUser: Int, amounts: Bool) -> EventColumn {
            var col = EventColumn(offsets: [0], timestamps: [])
            var amount: [Double] = []
            col.offsets.reserveCapacity(n + 1)
            for _ in 0..<n {
                let k = Int.random(in: 0...(2 * perUser), using: &rng)
                var ts = (0..<k).map { _ in now - Int64.random(in: 0...(120 * day), using: &rng) }
                ts.sort()
                col.timestamps += ts
                if amounts { for _ in 0..<k { amount.append(Double.random(in: 1...80, using: &rng)) } }
                col.offsets.append(col.timestamps.count)
            }
            if amounts { col.numbers["amount"] = amount }
            return col
        }
        snap.events["purchase"] = column(3, amounts: true)
        snap.events["open"] = column(5, amounts: false)
        snap.allEvents = snap.events["open"]!
        let schema = AttributeSchema(["country": .string, "plan": .string, "avg_order_value": .number])
        let text = CommandLine.arguments.count > 1 ? "count(open, 30d) >= 2 and sum(purchase, amount, 90d) > 50 and avg_order_value > 20 and plan != \"free\" and country == \"CN\"" : "country == \"CN\" and plan != \"free\" and avg_order_value > 20 and count(open, 30d) >= 2 and sum(purchase, amount, 90d) > 50"
        let (seg, diags) = SegmentCompiler.compile(
            SegmentSource(text: text, origin: SourceOrigin(file: "bench")), schema: schema, catalog: .empty)
        guard let seg else {
            print(diags)
            return
        }
        let env = EvaluationEnvironment(now: now)
        let pop = PopulationStats.empty
        var best = Double.infinity
        var hits = 0
        for _ in 0..<5 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let r = seg.evaluate(snap, env, population: pop)
            let t1 = DispatchTime.now().uptimeNanoseconds
            best = min(best, Double(t1 - t0) / 1e6)
            hits = r.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        print(text)
        print("bulk: \(n) users, best of 5: \(String(format: "%.1f", best)) ms, \(hits) matched")
        let lc = SegmentCompiler.compile(
            SegmentSource(text: "lifecycle == \"active\" or lifecycle == \"returning\"", origin: SourceOrigin(file: "bench")),
            schema: schema, catalog: .empty).0!
        let t2 = DispatchTime.now().uptimeNanoseconds
        let lr = lc.evaluate(snap, env, population: pop)
        let t3 = DispatchTime.now().uptimeNanoseconds
        print("bulk lifecycle: \(String(format: "%.1f", Double(t3 - t2) / 1e6)) ms, \(lr.filter { $0 }.count) matched")
        // Users with events, so the single-user path does real work.
        let facts = (0..<1000).map { snap.facts(row: $0 * 997) }
        let rfmStats = PopulationStats.compute(snap, env)
        let rfmSeg = SegmentCompiler.compile(
            SegmentSource(text: "rfm_m >= 4 and rfm_f >= 3 and lifecycle != \"churned\"", origin: SourceOrigin(file: "bench")),
            schema: schema, catalog: .empty).0!
        var rfmSamples: [Double] = []
        for f in facts {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = rfmSeg.matches(f, env, population: rfmStats)
            rfmSamples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
        }
        rfmSamples.sort()
        print("matches with RFM + lifecycle: median \(String(format: "%.2f", rfmSamples[500])) µs")
        var samples: [Double] = []
        var agree = 0
        for _ in 0..<20 {
            for f in facts {
                let t0 = DispatchTime.now().uptimeNanoseconds
                let m = seg.matches(f, env, population: pop)
                let t1 = DispatchTime.now().uptimeNanoseconds
                samples.append(Double(t1 - t0) / 1000)
                if m { agree += 1 }
            }
        }
        agree /= 20
        samples.sort()
        print("matches (one call timed at a time, incl. clock overhead): median \(String(format: "%.2f", samples[samples.count / 2])) µs, p99 \(String(format: "%.2f", samples[samples.count * 99 / 100])) µs (\(agree) of 1000 matched)")
    }
}
