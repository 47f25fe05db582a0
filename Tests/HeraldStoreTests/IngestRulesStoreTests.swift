import Foundation
import HeraldCore
import Testing

@testable import HeraldLedger
@testable import HeraldIngest

/// The ingest rules of docs/api.md on every import path and both stores: the user-id alphabet, the future
/// skew of event timestamps, and import summaries that count inserted, updated and unchanged rows truly.
@Suite struct IngestRulesStoreTests {
    /// Every import path refuses an id outside the alphabet as a bad row with its line, and keeps the others.
    @Test(arguments: TestBackend.all)
    func everyImportPathRefusesIDsOutsideTheAlphabet(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let importer = Importer(store: backend.store, schema: testSchema)
            let users = try backend.dir.write(
                "u.ndjson",
                #"""
                {"id":"u1"}
                {"id":"u2\ncritical: forged"}
                {"id":" u3"}
                {"id":"u4","country":"US"}
                """#)
            var r = try await importer.importUsers(path: users, format: .ndjson)
            #expect(r.inserted == 2 && r.rejected == 2)
            try #require(r.diagnostics.compactMap { $0.location?.line } == [2, 3])
            #expect(r.diagnostics[0].message == "'id' must not hold control characters (found \\n)")
            #expect(r.diagnostics[1].message == "'id' must not start or end with whitespace")

            let csv = try backend.dir.write("u.csv", "id,country\nc1,US\nc2\u{1B}[31m,US\nc3,CN\n")
            r = try await importer.importUsers(path: csv, format: .csv)
            #expect(r.inserted == 2 && r.rejected == 1)
            #expect(r.diagnostics.first?.location?.line == 3)
            // The diagnostic prints the row's ESC escaped.
            #expect(r.diagnostics.first?.description.contains("\u{1B}") == false)

            let segment = try backend.dir.write(
                "s.ndjson",
                #"""
                {"type":"identify","userId":"s1"}
                {"type":"identify","userId":"s2\u0007"}
                {"type":"track","userId":"s3\u2028","event":"e","timestamp":1}
                {"type":"track","userId":"s4","event":"e","timestamp":1}
                """#)
            r = try await importer.importUsers(path: segment, format: .segment)
            #expect(r.inserted == 2 && r.rejected == 2)
            #expect(
                r.diagnostics.map(\.message) == [
                    "'userId' must not hold control characters (found \\u{7})",
                    "'userId' must not hold control characters (found \\u{2028})",
                ])

            let events = try backend.dir.write(
                "e.ndjson",
                #"""
                {"user_id":"e1","event":"e","timestamp":1}
                {"user_id":"e2\u001b[2J","event":"e","timestamp":1}
                {"user_id":"..","event":"e","timestamp":1}
                """#)
            r = try await importer.importEvents(path: events, format: .ndjson)
            #expect(r.inserted == 1 && r.rejected == 2)
            try #require(r.diagnostics.compactMap { $0.location?.line } == [2, 3])
            #expect(r.diagnostics[0].message.hasPrefix("'user_id' must not hold control characters"))
            let stored = try await backend.store.snapshot(SnapshotRequirements()).ids
            #expect(Set(stored) == ["u1", "u4", "c1", "c3", "s1", "s4", "e1"])
        }
    }

    /// An event later than now + the skew is a bad row naming its line, column and field; the rest go in.
    @Test(arguments: TestBackend.all)
    func futureEventsAreRefusedWithLineAndField(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            var importer = Importer(store: backend.store, schema: testSchema)
            let now: Int64 = 1_795_000_000
            importer.latestEventMillis = IngestConfig().latestEventMillis(now: now)
            let path = try backend.dir.write(
                "e.ndjson",
                """
                {"user_id":"u1","event":"view","timestamp":\(now)}
                {"user_id":"u1","event":"view","timestamp":"9999-01-01T00:00:00Z"}
                {"user_id":"u1","event":"view","timestamp":\(now + 86_400)}
                {"user_id":"u1","event":"view","timestamp":\(now + 86_401)}
                """)
            let r = try await importer.importEvents(path: path, format: .ndjson)
            #expect(r.read == 4 && r.inserted == 2 && r.rejected == 2)
            let d = r.diagnostics
            try #require(d.compactMap { $0.location?.line } == [2, 4])
            #expect(d[0].location?.column == 44)
            #expect(
                d[0].message
                    == "'timestamp' 9999-01-01T00:00:00Z is after 2026-11-19T11:06:40Z, the latest accepted now "
                    + "(ingest.max_future_skew in herald.yaml)")
            let segment = try backend.dir.write(
                "s.ndjson",
                #"{"type":"track","userId":"u2","event":"view","timestamp":"9999-01-01T00:00:00Z"}"#)
            let s = try await importer.importEvents(path: segment, format: .segment)
            #expect(
                s.rejected == 1 && s.diagnostics.first?.message.hasPrefix("'timestamp' 9999-01-01") == true)
            let facts = try #require(try await backend.store.facts(id: "u1"))
            #expect(facts.allEventTimes == [now, now + 86_400])
            #expect(try await backend.store.profile(id: "u2") == nil)
        }
    }

    /// Re-importing a file says 0 inserted; a changed row is `updated`; an import cut short and run again counts
    /// only the rows the first run did not store as inserted (users, events, and events loaded in bulk).
    @Test(arguments: TestBackend.all)
    func summariesCountInsertedUpdatedAndUnchangedTruly(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let importer = Importer(store: backend.store, schema: testSchema, batchSize: 2)
            let lines = (1...5).map { #"{"id":"u\#($0)","country":"US"}"# }
            let half = try backend.dir.write("half.ndjson", lines.prefix(3).joined(separator: "\n"))
            let all = try backend.dir.write("all.ndjson", lines.joined(separator: "\n"))
            var r = try await importer.importUsers(path: half, format: .ndjson)
            #expect((r.inserted, r.updated, r.unchanged) == (3, 0, 0))
            r = try await importer.importUsers(path: all, format: .ndjson)
            #expect((r.inserted, r.updated, r.unchanged) == (2, 0, 3))
            r = try await importer.importUsers(path: all, format: .ndjson)
            #expect((r.inserted, r.updated, r.unchanged) == (0, 0, 5))
            var changed = lines
            changed[1] = #"{"id":"u2","country":"CN"}"#
            let edited = try backend.dir.write("edited.ndjson", changed.joined(separator: "\n"))
            r = try await importer.importUsers(path: edited, format: .ndjson)
            #expect((r.inserted, r.updated, r.unchanged) == (0, 1, 4))

            let events = (1...6).map {
                #"{"user_id":"u\#($0 % 3)","event":"view","timestamp":\#(1_700_000_000 + $0)}"#
            }
            let eventsHalf = try backend.dir.write("eh.ndjson", events.prefix(4).joined(separator: "\n"))
            let eventsAll = try backend.dir.write("ea.ndjson", events.joined(separator: "\n"))
            r = try await importer.importEvents(path: eventsHalf, format: .ndjson)
            #expect((r.inserted, r.unchanged) == (4, 0))
            var bulk = importer
            bulk.bulkLoadThreshold = 1  // every file is a bulk load (a no-op on stores that defer nothing)
            r = try await bulk.importEvents(path: eventsAll, format: .ndjson)
            #expect((r.read, r.inserted, r.updated, r.unchanged) == (6, 2, 0, 4))
            r = try await bulk.importEvents(path: eventsAll, format: .ndjson)
            #expect((r.inserted, r.unchanged) == (0, 6))
            #expect(try await backend.store.counts().events == 6)

            // A bulk load killed half-way (its deferred index never rebuilt), then the whole file again.
            let more = (1...6).map {
                #"{"user_id":"v\#($0)","event":"view","timestamp":\#(1_700_000_000 + $0)}"#
            }
            let moreAll = try backend.dir.write("ma.ndjson", more.joined(separator: "\n"))
            let store = backend.store
            let deferred = try await store.beginBulkLoad(estimatedEvents: 1_000)
            _ = try await store.insertEvents(
                (1...3).map {
                    EventRecord(
                        userID: "v\($0)", name: "view", timestampMillis: (1_700_000_000 + Int64($0)) * 1000)
                })
            _ = deferred  // the process dies here: no endBulkLoad
            var next = Importer(store: try backend.reopen(), schema: testSchema, batchSize: 2)
            next.bulkLoadThreshold = 1
            r = try await next.importEvents(path: moreAll, format: .ndjson)
            #expect((r.read, r.inserted, r.unchanged) == (6, 3, 3))
            #expect(try await backend.store.counts().events == 12)
        }
    }
}
