// Benchmark: bench DB USERS.ndjson|- EVENTS.ndjson|- — imports, then loads a snapshot; prints timings.
import Foundation
import HeraldCore
import HeraldLedger
import HeraldSQLite
import HeraldIngest

let args = CommandLine.arguments
let db = args[1], users = args[2], events = args[3]
let schema = AttributeSchema(["country": .string, "avg_order_value": .number, "plan": .string, "tags": .list])
let store = try SQLiteStore(path: db, schema: schema, cacheMiB: Int(ProcessInfo.processInfo.environment["HB_CACHE_MB"] ?? "256")!)
let importer = Importer(store: store, schema: schema, batchSize: Int(ProcessInfo.processInfo.environment["HB_BATCH"] ?? "50000")!)
func time<T>(_ label: String, _ body: () async throws -> T) async rethrows -> (T, Double) {
    let t0 = Date()
    let r = try await body()
    let dt = Date().timeIntervalSince(t0)
    print(label, String(format: "%.2fs", dt))
    return (r, dt)
}
if users != "-" {
    let (r, dt) = try await time("users import") { try await importer.importUsers(path: users, format: .ndjson) }
    print("users: read \(r.read) inserted \(r.inserted) rejected \(r.rejected) rate \(Int(Double(r.read) / dt))/s")
}
if events != "-" {
    let (r, dt) = try await time("events import") { try await importer.importEvents(path: events, format: .ndjson) }
    print("events: read \(r.read) inserted \(r.inserted) unchanged \(r.unchanged) rejected \(r.rejected) rate \(Int(Double(r.read) / dt))/s")
    for d in r.diagnostics.prefix(3) { print(d) }
}
let (s, _) = try await time("snapshot") {
    try await store.snapshot(SnapshotRequirements(events: ["purchase", "open"], eventNumbers: ["purchase": ["amount"]]))
}
print("snapshot users \(s.count) allEvents \(s.allEvents.timestamps.count) purchases \(s.events["purchase"]!.timestamps.count)")
let (c, _) = try await time("counts") { try await store.counts() }
print(c)
