import Foundation
import HeraldCore
import Testing

@testable import HeraldLedger
@testable import HeraldIngest

/// The importer writing into the store, against every backend in `TestBackend.all` from one body each.
@Suite struct IngestTests {
    @Test(arguments: TestBackend.all)
    func everyTimestampFormIsAcceptedAndBadOnesRefused(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let lines = [
                #"{"user_id":"u1","event":"a","timestamp":"2026-11-02T00:15:00Z"}"#,
                #"{"user_id":"u1","event":"b","timestamp":"2026-11-02T08:15:00+08:00"}"#,
                #"{"user_id":"u1","event":"c","timestamp":"2026-11-02T08:15:00+0800"}"#,
                #"{"user_id":"u1","event":"d","timestamp":"2026-11-02T00:15:00.750Z"}"#,
                #"{"user_id":"u1","event":"e","timestamp":1793578500}"#,
                #"{"user_id":"u1","event":"f","timestamp":1793578500000}"#,
                #"{"user_id":"u1","event":"g","timestamp":"1793578500"}"#,
                #"{"user_id":"u1","event":"h","timestamp":"1793578500000"}"#,
                #"{"user_id":"u1","event":"x","timestamp":"2026-11-02T00:15:00"}"#,
                #"{"user_id":"u1","event":"y","timestamp":"2026-02-30T00:15:00Z"}"#,
                #"{"user_id":"u1","event":"z","timestamp":"yesterday"}"#,
            ]
            let path = try backend.dir.write("events.ndjson", lines.joined(separator: "\n"))
            let report = try await Importer(store: store, schema: testSchema).importEvents(path: path, format: .ndjson)
            #expect(report.read == 11 && report.inserted == 8 && report.rejected == 3)
            #expect(report.diagnostics.compactMap { $0.location?.line } == [9, 10, 11])
            #expect(report.diagnostics[0].message.contains("offset"))
            #expect(report.diagnostics[0].location?.column == 41)
            let f = try #require(try await store.facts(id: "u1"))
            #expect(Set(f.allEventTimes) == [1_793_578_500])
        }
    }

    @Test(arguments: TestBackend.all)
    func reimportIsIdempotent(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let path = try backend.dir.write(
                "e.ndjson",
                """
                {"user_id":"u1","event":"purchase","timestamp":"2026-11-02T08:15:00+08:00","properties":{"amount":35.2,"sku":"A"}}
                {"user_id":"u1","event":"purchase","timestamp":"2026-11-02T08:15:00+08:00","properties":{"sku":"A","amount":35.2}}
                {"user_id":"u2","event":"open","timestamp":1,"messageId":"m1"}
                {"user_id":"u2","event":"open","timestamp":2,"messageId":"m1"}
                {"user_id":"u3","event":"x","timestamp":5,"properties":{}}
                {"user_id":"u3","event":"x","timestamp":5}
                """)
            let importer = Importer(store: store, schema: testSchema, batchSize: 3)
            let first = try await importer.importEvents(path: path, format: .ndjson)
            #expect(first.inserted == 3 && first.unchanged == 3)
            let second = try await importer.importEvents(path: path, format: .ndjson)
            #expect(second.inserted == 0 && second.unchanged == 6)
            let f = try #require(try await store.facts(id: "u1"))
            #expect(f.events["purchase"]?.numbers["amount"] == [35.2])
        }
    }

    @Test(arguments: TestBackend.all)
    func invalidUTF8IsReportedWithColumnAndNeighboursImported(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            var bytes = Array(#"{"id":"u1"}"#.utf8) + [0x0A]
            bytes += Array(#"{"id":"u2","country":"C"#.utf8) + [0xFF] + Array(#""}"#.utf8) + [0x0A]
            bytes += Array(#"{"id":"u3","country":"中国"}"#.utf8) + [0x0A]
            let path = try backend.dir.write("u.ndjson", bytes: bytes)
            let report = try await Importer(store: store, schema: testSchema).importUsers(path: path, format: .ndjson)
            #expect(report.inserted == 2 && report.rejected == 1)
            let d = try #require(report.diagnostics.first)
            #expect(d.location?.line == 2 && d.location?.column == 24)
            #expect(d.message.contains("invalid UTF-8") && d.message.contains("byte 24"))
            #expect(try await store.profile(id: "u3")?.attributes["country"] == .string("中国"))
        }
    }

    @Test(arguments: TestBackend.all)
    func overlongLineIsSkippedWithoutLosingOthers(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            var text = #"{"id":"u1"}"# + "\n"
            text += #"{"id":"big","country":""# + String(repeating: "x", count: 10 << 20) + "\"}\n"
            text += #"{"id":"u3"}"#
            let path = try backend.dir.write("u.ndjson", text)
            let report = try await Importer(store: store, schema: testSchema).importUsers(path: path, format: .ndjson)
            #expect(report.read == 3 && report.inserted == 2 && report.rejected == 1)
            #expect(report.diagnostics.first?.location?.line == 2)
            #expect(report.diagnostics.first?.message.contains("longer than the limit") == true)
        }
    }

    @Test(arguments: TestBackend.all)
    func malformedJSONAndWrongTypesAreBadRows(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let path = try backend.dir.write(
                "u.ndjson",
                """
                {"id":"u1","avg_order_value":"12.5","vip":true,"tags":["a","b"],"signup":"2026-01-01T00:00:00Z"}
                {"id":"u2", "country":}
                {"id":"u3","avg_order_value":"lots"}
                {"id":"u4","tags":["a",3]}
                {"email":"x@y.z"}
                [1,2]

                {"id":"u5","vip":"yes","timezone":"Mars/Base"}
                {"id":"u6","timezone":"Mars/Base"}
                """)
            let report = try await Importer(store: store, schema: testSchema).importUsers(path: path, format: .ndjson)
            #expect(report.read == 8 && report.inserted == 3 && report.rejected == 5)
            let errors = report.diagnostics.filter { $0.severity == .error }
            #expect(errors.map { $0.location!.line } == [2, 3, 4, 5, 6])
            #expect(errors[0].location?.column == 23 && errors[0].message.contains("malformed JSON"))
            #expect(errors[1].location?.column == 30 && errors[1].message.contains("avg_order_value"))
            #expect(errors[3].message.contains("'id'"))
            let zone = report.diagnostics.filter { $0.severity == .warning }
            #expect(zone.count == 1 && zone[0].message.contains("2 rows"))
            let p = try #require(try await store.profile(id: "u1"))
            #expect(p.attributes["avg_order_value"] == .number(12.5))
            #expect(p.attributes["signup"] == .timestamp(1_767_225_600))
            #expect(try await store.profile(id: "u6")?.timezone == "Mars/Base")
        }
    }

    @Test(arguments: TestBackend.all)
    func undeclaredAttributeReportedOnceWithCount(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let path = try backend.dir.write(
                "u.ndjson",
                """
                {"id":"u1","plan":"pro","country":"CN"}
                {"id":"u2","plan":"free"}
                {"id":"u1","countri":"HK"}
                """)
            let report = try await Importer(store: store, schema: testSchema).importUsers(path: path, format: .ndjson)
            #expect(report.rejected == 0 && report.inserted == 2 && report.updated == 0 && report.unchanged == 1)
            let plan = report.diagnostics.filter { $0.message.contains("'plan'") }
            #expect(plan.count == 1 && plan[0].message.contains("2 rows") && plan[0].location?.line == 1)
            let typo = try #require(report.diagnostics.first { $0.message.contains("'countri'") })
            #expect(typo.suggestion?.contains("country") == true)
            #expect(report.diagnostics.contains { $0.severity == .note && $0.message.contains("1 row repeated") })
            #expect(try await store.profile(id: "u1")?.attributes == ["country": .string("CN")])
        }
    }

    @Test(arguments: TestBackend.all)
    func csvQuotingAndEmptyCells(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let path = try backend.dir.write(
                "u.csv",
                "id,email,country,tags,avg_order_value\r\n"
                    + "u1,a@b.cn,\"C\"\"N\",vip;new,10\r\n"
                    + "u2,,\"Hong\nKong\",,\r\n"
                    + "u3,x@y.z,CN,,abc\r\n"
                    + "u4,\"unterminated\n")
            let report = try await Importer(store: store, schema: testSchema).importUsers(path: path, format: .csv)
            #expect(report.inserted == 2 && report.rejected == 2)
            #expect(report.diagnostics.map { $0.location?.line } == [5, 6])
            #expect(report.diagnostics[0].message.contains("field 5") && report.diagnostics[0].location?.column == 5)
            let u1 = try #require(try await store.profile(id: "u1"))
            #expect(u1.attributes == ["country": .string("C\"N"), "tags": .list(["vip", "new"]), "avg_order_value": .number(10)])
            let u2 = try #require(try await store.profile(id: "u2"))
            #expect(u2.email == nil && u2.attributes == ["country": .string("Hong\nKong")])
        }
    }

    @Test(arguments: TestBackend.all)
    func segmentIdentifyAndTrack(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let path = try backend.dir.write(
                "s.ndjson",
                """
                {"type":"identify","userId":"u1","traits":{"email":"a@b.cn","country":"CN","createdAt":"2026-01-01T00:00:00Z"},"timestamp":"2026-01-01T00:00:00Z"}
                {"type":"track","userId":"u1","event":"purchase","properties":{"amount":5},"timestamp":"2026-01-02T00:00:00Z","messageId":"abc"}
                {"type":"page","userId":"u1","name":"Home"}
                {"type":"track","anonymousId":"x","event":"view","timestamp":1}
                """)
            let report = try await Importer(store: store, schema: testSchema).importEvents(path: path, format: .segment)
            #expect(report.inserted == 2 && report.rejected == 2)
            #expect(report.diagnostics[0].message.contains("'page'"))
            #expect(report.diagnostics[1].message.contains("userId") && report.diagnostics[1].location?.column == 1)
            let f = try #require(try await store.facts(id: "u1"))
            #expect(f.profile.email == "a@b.cn" && f.profile.createdAt == 1_767_225_600)
            #expect(f.events["purchase"]?.numbers["amount"] == [5])
        }
    }

    @Test(arguments: TestBackend.all)
    func diagnosticsAreCapped(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let path = try backend.dir.write("bad.ndjson", String(repeating: "{oops\n", count: 130))
            var importer = Importer(store: store, schema: testSchema)
            importer.maxListedDiagnostics = 100
            let report = try await importer.importEvents(path: path, format: .ndjson)
            #expect(report.rejected == 130 && report.omittedDiagnostics == 30)
            #expect(report.diagnostics.count == 101 && report.diagnostics.last?.message.contains("30 more") == true)
        }
    }

    @Test(arguments: TestBackend.all)
    func csvWithoutIdColumnAndCSVEventsAreRefused(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let importer = Importer(store: store, schema: testSchema)
            let path = try backend.dir.write("u.csv", "email,country\na@b.cn,CN\n")
            let report = try await importer.importUsers(path: path, format: .csv)
            #expect(report.inserted == 0 && report.diagnostics.first?.message.contains("no 'id' column") == true)
            await #expect(throws: ImportFormatError.self) { try await importer.importEvents(path: path, format: .csv) }
            await #expect(throws: ImportFileError.self) {
                try await importer.importUsers(path: backend.dir.path("missing.ndjson"), format: .ndjson)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func progressReportsBytesAndRows(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let store = backend.store
            let lines = (0..<10).map { #"{"user_id":"u\#($0)","event":"e","timestamp":\#($0)}"# }
            let path = try backend.dir.write("e.ndjson", lines.joined(separator: "\n") + "\n")
            var seen: [ImportProgress] = []
            let report = try await Importer(store: store, schema: testSchema, batchSize: 4)
                .importEvents(path: path, format: .ndjson) { seen.append($0) }
            #expect(report.inserted == 10)
            #expect(seen.map(\.rows) == [4, 8, 10])
            #expect(seen.last?.bytesRead == seen.last?.totalBytes)
        }
    }
}
