// ordo-one/benchmark targets for the segment language, on a generated in-memory audience.
// Run: swift package --package-path Benchmarks benchmark --target SegmentBenchmarks
import Benchmark
import Foundation
import HeraldCore
import HeraldLedger
import HeraldSQLite
import HeraldIngest

/// A 100,000-user sample audience imported into a temporary SQLite store, then snapshotted.
struct Fixture: Sendable {
    let snapshot: AudienceSnapshot
    let segment: CompiledSegment
    let env: EvaluationEnvironment
    let population: PopulationStats
    let facts: [UserFacts]

    static func make(users: Int) async throws -> Fixture {
        let now: Int64 = 1_795_132_800  // 2026-11-20T00:00:00Z
        let folder = NSTemporaryDirectory() + "herald-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var usersText = ""
        var eventsText = ""
        SampleAudience(users: users, seed: 7, now: now).generate(
            user: { usersText += $0 + "\n" }, event: { eventsText += $0 + "\n" })
        try usersText.write(toFile: folder + "/users.ndjson", atomically: false, encoding: .utf8)
        try eventsText.write(toFile: folder + "/events.ndjson", atomically: false, encoding: .utf8)
        let schema = AttributeSchema([
            "country": .string, "plan": .string, "avg_order_value": .number, "first_name": .string,
            "tags": .list, "vip_since": .timestamp, "lifetime_value": .number,
        ])
        let store = try SQLiteStore(path: folder + "/bench.db", schema: schema)
        let importer = Importer(store: store, schema: schema)
        _ = try await importer.importUsers(path: folder + "/users.ndjson", format: .ndjson) { _ in }
        _ = try await importer.importEvents(path: folder + "/events.ndjson", format: .ndjson) { _ in }
        let source = SegmentSource(
            text: """
                country in ["US", "CN"] and plan != "free" and avg_order_value > 60
                  and count(purchase, 90d) >= 1 and count(app_open, 30d) >= 2
                """, origin: SourceOrigin(file: "<bench>"))
        let (segment, _) = SegmentCompiler.compile(source, schema: schema, catalog: .empty)
        let snapshot = try await store.snapshot(segment!.requirements)
        let env = EvaluationEnvironment(now: now)
        let facts = stride(from: 0, to: snapshot.count, by: 97).map { snapshot.facts(row: $0) }
        try? FileManager.default.removeItem(atPath: folder)
        return Fixture(
            snapshot: snapshot, segment: segment!, env: env,
            population: PopulationStats.compute(snapshot, env), facts: facts)
    }
}

nonisolated(unsafe) var fixture: Fixture?

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident])

    Benchmark(
        "Segment bulk evaluation, 100k users",
        configuration: .init(maxDuration: .seconds(10), maxIterations: 50,
            setup: { fixture = try await Fixture.make(users: 100_000) })
    ) { benchmark in
        let f = fixture!
        for _ in benchmark.scaledIterations {
            blackHole(f.segment.evaluate(f.snapshot, f.env, population: f.population))
        }
    }

    Benchmark(
        "Segment single-user evaluation",
        configuration: .init(scalingFactor: .kilo, maxDuration: .seconds(10),
            setup: { if fixture == nil { fixture = try await Fixture.make(users: 100_000) } })
    ) { benchmark in
        let f = fixture!
        var i = 0
        for _ in benchmark.scaledIterations {
            blackHole(f.segment.matches(f.facts[i], f.env, population: f.population))
            i = (i + 1) % f.facts.count
        }
    }
}
