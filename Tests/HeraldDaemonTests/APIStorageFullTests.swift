import Foundation
import GRDB
import HeraldCore
import HeraldDaemon
import HeraldDelivery
import HeraldLedger
import HeraldSQLite
import Logging
import Testing

/// A full disk, produced by SQLite itself: `PRAGMA max_page_count` at the database's current size makes every
/// write that needs a new page fail with SQLITE_FULL, as a full file system does.
@Suite("API: storage full")
struct APIStorageFullTests {
    /// Caps the store's writer connection at its current size (nil: lifts the cap).
    static func capSize(_ store: SQLiteStore, atCurrent: Bool) async throws {
        try await store.pool.writeWithoutTransaction { db in
            if atCurrent {
                let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 1
                try db.execute(sql: "PRAGMA max_page_count = \(pages)")
            } else {
                try db.execute(sql: "PRAGMA max_page_count = 1073741823")
            }
        }
    }

    /// A batch of `n` track calls, large enough to need new pages.
    static func batch(_ n: Int, tag: String) -> String {
        let calls = (0..<n).map { i in
            #"{"type":"track","userId":"u\#(i)","event":"viewed","messageId":"\#(tag)-\#(i)","properties":{"page":"\#(String(repeating: "p", count: 100))"}}"#
        }
        return #"{"batch":[\#(calls.joined(separator: ","))]}"#
    }

    @Test("a full store answers 503 storage full with Retry-After, logs once, and recovers when space returns")
    func fullDiskIs503AndRecovers() async throws {
        let log = CapturedLog()
        try await APIHarness.run(logger: log.logger) { api in
            try await Self.capSize(api.store, atCurrent: true)
            for attempt in 0..<12 {
                let r = try await api.postJSON("/v1/batch", Self.batch(2000, tag: "a\(attempt)"))
                #expect(r.status == 503, "\(r.text)")
                #expect(r.header("Retry-After") == "30")
                #expect(try APIHarness.object(r)["error"] as? String == "storage full")
            }
            // Nothing of the refused calls was stored.
            #expect(try await api.counts().events == 0)
            let full = log.records.withLock { $0.filter { $0.message.contains("storage full") } }
            #expect(full.count == 1, "\(full.map(\.message))")
            #expect(full.first?.level == .error)
            #expect(log.records.withLock { $0.contains { $0.message.contains("API request failed") } } == false)

            try await Self.capSize(api.store, atCurrent: false)
            let r = try await api.postJSON("/v1/batch", Self.batch(2000, tag: "b"))
            #expect(r.status == 200, "\(r.text)")
            #expect(try await api.counts().events == 2000)
            #expect(log.records.withLock { $0.contains { $0.message.contains("storage full is over") } })
        }
    }

    @Test("the fault log writes one line per interval with the count refused since")
    func faultLogThrottles() throws {
        let log = CapturedLog()
        let now = LockedState(1000.0)
        let faults = FaultLog(logger: log.logger, interval: 30, clock: { now.withLock { $0 } })
        let full = DatabaseError(resultCode: .SQLITE_FULL, message: "database or disk is full")
        #expect(faults.record(full, in: "test"))
        #expect(faults.record(DatabaseError(resultCode: .SQLITE_BUSY), in: "test") == false)
        for _ in 0..<500 { faults.record(full, in: "test") }
        #expect(log.records.withLock { $0.count } == 1)
        now.withLock { $0 += 30 }
        faults.record(full, in: "test")
        let lines = log.records.withLock { $0.map(\.message) }
        #expect(lines.count == 2)
        #expect(log.records.withLock { $0.last?.level } == .error)
        faults.recovered()
        faults.recovered()
        #expect(log.records.withLock { $0.count } == 3)
        #expect(faults.isFaulted == false)
    }
}
