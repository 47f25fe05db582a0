import Foundation
import HeraldCore
import HeraldStore
import Testing

@Suite struct LedgerMigrationTests {
    @Test func ledgerV2KeepsOccurrenceAndWindow() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-ledger-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(path: dir.appendingPathComponent("h.db").path, schema: AttributeSchema())
        let ledger = try SQLiteLedger(pool: store.pool)
        var e = LedgerEntry(idempotencyKey: "c/o/u/1", campaign: "c", user: "u", status: .scheduled, createdAt: 10)
        e.occurrence = "o"
        e.triggerAt = 5
        e.windowEnd = 100
        #expect(try await ledger.record([e]) == 1)
        let back = try #require(try await ledger.entry(key: "c/o/u/1"))
        #expect(back.occurrence == "o" && back.triggerAt == 5 && back.windowEnd == 100 && back.sentAt == nil)
    }
}
