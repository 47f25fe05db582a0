// Times Herald's segment evaluation on a store, for Benchmarks/run.sh to set beside DuckDB.
// Prints one JSON object: snapshot load time and size, bulk and single-user evaluation medians.
import Foundation
import HeraldCore
import HeraldLedger
import HeraldSQLite

/// The benchmark predicate: 3 attributes and 2 event-window aggregates (the same as duckdb_segment.py).
let predicate = """
    country in ["US", "CN"] and plan != "free" and avg_order_value > 60
      and count(purchase, 90d) >= 1 and count(app_open, 30d) >= 2
    """

// glibc's malloc_trim is not in the Glibc module map; declare it.
@_silgen_name("malloc_trim") func malloc_trim(_ pad: Int) -> Int32

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}

func seconds(_ body: () -> Void) -> Double {
    let t = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9
}

/// Heap bytes of a string beyond its 16-byte inline representation.
func heapBytes(_ s: String?) -> Int {
    guard let s else { return 0 }
    let n = s.utf8.count
    return n <= 15 ? 0 : 32 + ((n + 15) / 16) * 16
}

guard let configPath = argument("--config"), let nowText = argument("--now"),
    case .success(let nowMillis) = TimestampParser.parse(nowText)
else {
    FileHandle.standardError.write(Data("usage: herald-bench --config PATH --now TIME [--runs N]\n".utf8))
    exit(64)
}
let runs = Int(argument("--runs") ?? "10") ?? 10
let (loaded, diagnostics) = HeraldConfig.load(path: configPath, environment: ProcessInfo.processInfo.environment)
guard let config = loaded, case .sqlite(let dbPath) = config.store else {
    diagnostics.forEach { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
    exit(65)
}
let (compiledSegment, segmentDiagnostics) = SegmentCompiler.compile(
    SegmentSource(text: predicate, origin: SourceOrigin(file: "<bench>")), schema: config.attributes,
    catalog: config.catalog)
guard let segment = compiledSegment else {
    segmentDiagnostics.forEach { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
    exit(65)
}
let store = try SQLiteStore(path: dbPath, schema: config.attributes)
let env = EvaluationEnvironment(now: nowMillis / 1000, lifecycle: config.lifecycle)

_ = malloc_trim(0)
let rssBefore = residentBytes()
var snapshot = AudienceSnapshot()
let loadStart = DispatchTime.now().uptimeNanoseconds
snapshot = try await store.snapshot(segment.requirements)
let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
// Give freed load-time buffers back to the system so RSS shows what the snapshot keeps.
_ = malloc_trim(0)
let rssAfter = residentBytes()
let population = PopulationStats.compute(snapshot, env)

// Bulk: the matching row ids, as DuckDB's query returns them.
var bulkTimes: [Double] = []
var matches = 0
for _ in 0..<runs {
    var ids: [String] = []
    bulkTimes.append(
        seconds {
            let mask = segment.evaluate(snapshot, env, population: population)
            ids.reserveCapacity(mask.count / 8)
            for i in mask.indices where mask[i] { ids.append(snapshot.ids[i]) }
        })
    matches = ids.count
}

// Single user: `matches` on 1,000 users' facts, 200 calls each; the median per-call time.
var singleTimes: [Double] = []
var agree = true
let step = max(1, snapshot.count / 1000)
let bulkMask = segment.evaluate(snapshot, env, population: population)
for row in stride(from: 0, to: snapshot.count, by: step) {
    let facts = snapshot.facts(row: row)
    var result = false
    let t = seconds {
        for _ in 0..<200 { result = segment.matches(facts, env, population: population) }
    }
    singleTimes.append(t / 200)
    if result != bulkMask[row] { agree = false }
}

// Bytes per user of the snapshot, counted from its columns.
let n = max(1, snapshot.count)
var profileBytes = snapshot.ids.count * 16 + snapshot.ids.reduce(0) { $0 + heapBytes($1) }
for column in [snapshot.email, snapshot.phone, snapshot.locale] {
    profileBytes += column.count * 16 + column.reduce(0) { $0 + heapBytes($1) }
}
profileBytes += snapshot.timezone.count * 4 + (snapshot.createdAt.count + snapshot.lastSeenImported.count
    + snapshot.birthday.count + snapshot.engagement.count) * 8
var attributeBytes = 0
for (_, column) in snapshot.attributes {
    switch column {
    case .number(let v): attributeBytes += v.count * 8
    case .bool(let v): attributeBytes += v.count
    case .string(let codes, let dictionary): attributeBytes += codes.count * 4 + dictionary.reduce(0) { $0 + 16 + heapBytes($1) }
    case .timestamp(let v): attributeBytes += v.count * 8
    case .list(let offsets, let codes, let dictionary, let isNull):
        attributeBytes += offsets.count * 4 + codes.count * 4 + isNull.count + dictionary.count * 32
    }
}
var eventBytes = 0
var eventCount = snapshot.allEvents.timestamps.count
for column in [snapshot.allEvents] + Array(snapshot.events.values) {
    eventBytes += column.offsets.count * 8 + column.timestamps.count * 8
    eventBytes += column.numbers.values.reduce(0) { $0 + $1.count * 8 }
}
eventCount = snapshot.allEvents.timestamps.count

func fmt(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }
print(
    """
    {"users":\(snapshot.count),"events":\(eventCount),"matches":\(matches),"snapshot_load_s":\(fmt(loadSeconds)),\
    "bulk_median_ms":\(fmt(median(bulkTimes) * 1000)),"single_median_us":\(fmt(median(singleTimes) * 1e6, 3)),\
    "single_agrees_with_bulk":\(agree),"bytes_per_user_profile":\(fmt(Double(profileBytes) / Double(n), 1)),\
    "bytes_per_user_attributes":\(fmt(Double(attributeBytes) / Double(n), 1)),\
    "bytes_per_user_events":\(fmt(Double(eventBytes) / Double(n), 1)),\
    "rss_bytes_per_user":\(fmt(Double(rssAfter - rssBefore) / Double(n), 1))}
    """)
