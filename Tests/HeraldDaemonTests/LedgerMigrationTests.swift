import Foundation
import HeraldCore
import HeraldLedger
import HeraldSQLite
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

@Suite struct LedgerClaimTests {
    @Test func aRateLimitedChannelIsClaimedOnlyUpToItsShare() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-claim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(path: dir.appendingPathComponent("h.db").path, schema: AttributeSchema())
        let ledger = try SQLiteLedger(pool: store.pool)
        var rows: [LedgerEntry] = []
        for i in 0..<5 {
            rows.append(LedgerEntry(idempotencyKey: "c/o/e\(i)/1", campaign: "c", user: "e\(i)", status: .scheduled, channel: .email, scheduledAt: 10, createdAt: 1))
            rows.append(LedgerEntry(idempotencyKey: "c/o/s\(i)/1", campaign: "c", user: "s\(i)", status: .scheduled, channel: .sms, scheduledAt: 10, createdAt: 1))
        }
        #expect(try await ledger.record(rows) == 10)
        let first = try await ledger.claimDue(now: 10, limit: 100, owner: "a", lease: 60, perChannel: [.sms: 2])
        #expect(first.filter { $0.channel == .email }.count == 5)
        #expect(first.filter { $0.channel == .sms }.count == 2)
        let second = try await ledger.claimDue(now: 10, limit: 100, owner: "b", lease: 60, perChannel: [.sms: 2])
        #expect(second.map(\.channel) == [.sms, .sms])
        #expect(Set(first.map(\.idempotencyKey)).isDisjoint(with: second.map(\.idempotencyKey)))
        #expect(try await ledger.claimDue(now: 9, limit: 100, owner: "c", lease: 60).isEmpty)  // not due before its time
    }
}
