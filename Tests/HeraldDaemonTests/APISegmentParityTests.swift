import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger
import HeraldSQLite
import HeraldIngest
import Testing

/// `POST /v1/*` and `herald users import --format segment` accept and store the same calls.
@Suite struct APISegmentParityTests {
    static let good = [
        #"{"type":"identify","userId":"u1","traits":{"email":"a@b.example","plan":"gold","avg_order_value":"12.5"}}"#,
        #"{"type":"identify","userId":42,"traits":{"phone":"+8613800138000","timezone":"Asia/Shanghai"}}"#,
        #"{"type":"track","userId":"u1","event":"purchase","properties":{"amount":35.2},"timestamp":"2025-11-02T08:15:00+08:00"}"#,
        #"{"type":"track","userId":"u9","event":"view","timestamp":1767225600,"messageId":"m-1"}"#,
    ]
    static let bad = [
        #"{"type":"identify","traits":{"plan":"x"}}"#,
        #"{"type":"track","userId":"u1","event":"e","timestamp":"not a time"}"#,
        #"{"type":"identify","userId":"u1","traits":{"avg_order_value":true}}"#,
        #"{"type":"page","userId":"u1"}"#,
        #"{"type":"track","userId":"u1","event":"","timestamp":1}"#,
        #"{"type":"identify","userId":"u1\u001b[2J"}"#,
        #"{"type":"track","userId":"u1","event":"e","timestamp":"2026-01-02T00:00:01Z"}"#,
    ]

    @Test func theSameCallsStoreTheSameRows() async throws {
        try await APIHarness.run { api in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
                "herald-parity-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let file = dir.appendingPathComponent("calls.ndjson")
            try (Self.good + Self.bad).joined(separator: "\n").write(
                to: file, atomically: true, encoding: .utf8)
            let imported = try SQLiteStore(
                path: dir.appendingPathComponent("i.db").path, schema: api.store.schema)
            var importer = Importer(store: imported, schema: api.store.schema)
            // The harness's clock, as the API has it.
            importer.latestEventMillis = IngestConfig().latestEventMillis(now: 1_767_225_600)
            let report = try await importer.importUsers(path: file.path, format: .segment)
            #expect(report.rejected == Self.bad.count)

            let batch = try await api.postJSON(
                "/v1/batch", #"{"batch":["# + Self.good.joined(separator: ",") + "]}")
            #expect(batch.status == 200, "\(batch.text)")
            for line in Self.bad {
                #expect(
                    try await api.postJSON("/v1/batch", #"{"batch":["# + line + "]}").status == 400, "\(line)"
                )
            }
            for id in ["u1", "42", "u9"] {
                let viaImport = try await imported.profile(id: id)
                let viaAPI = try await api.store.profile(id: id)
                #expect(viaImport?.email == viaAPI?.email && viaImport?.phone == viaAPI?.phone)
                #expect(
                    viaImport?.timezone == viaAPI?.timezone && viaImport?.attributes == viaAPI?.attributes)
                #expect(try await imported.facts(id: id)?.events == api.store.facts(id: id)?.events)
            }
            #expect(try await imported.counts() == api.counts())
        }
    }
}
