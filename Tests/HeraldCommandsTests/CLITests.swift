import Foundation
import Testing

/// The `herald` command line end to end: a real binary, a real SQLite store in a temporary folder.
@Suite("herald CLI", .serialized)
struct CLITests {
    static let at = "2026-11-20T00:00:00Z"

    /// A project with the sample audience (400 users) imported.
    static func seeded() throws -> CLIHarness {
        let h = try CLIHarness.make()
        let sample = try h.run(["sample", "--users", "400", "--now", at, "--out", "var/sample"])
        #expect(sample.status == 0, "\(sample.stderr)")
        let users = try h.run(["users", "import", "var/sample/users.ndjson"])
        #expect(users.status == 0, "\(users.stderr)")
        let events = try h.run(["events", "import", "var/sample/events.ndjson"])
        #expect(events.status == 0, "\(events.stderr)")
        return h
    }

    @Test func validateAcceptsTheExamples() throws {
        let h = try CLIHarness.make()
        defer { h.remove() }
        let r = try h.run(["validate"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("4 campaigns, 3 journeys ok"))
    }

    @Test func validateReportsEveryErrorWithFileLineColumnAndExits65() throws {
        let h = try CLIHarness.make()
        defer { h.remove() }
        try h.write(
            "campaigns/broken.yaml",
            """
            id: broken
            name: Broken
            status: sometimes
            audience:
              segment: lifecycel == "dormant"
            trigger:
              schedule: 2026-12-01T09:00:00Z
            message:
              channel: email
              email: { subject: "Hi {{frist_name}}", text: "x" }

            """)
        let r = try h.run(["validate"])
        #expect(r.status == 65)
        #expect(r.stderr.contains("broken.yaml:3:9: error:"), "\(r.stderr)")
        #expect(r.stderr.contains("broken.yaml:5:12: error:"), "\(r.stderr)")
        #expect(r.stderr.contains("did you mean 'lifecycle'?"), "\(r.stderr)")
        #expect(r.stderr.contains("did you mean 'first_name'?"), "\(r.stderr)")
        // The other campaigns are still checked and counted, not hidden by the broken one.
        #expect(!r.stderr.contains("winback-dormant.yaml"))
    }

    @Test func audienceCountJSONAndTableAgree() throws {
        let h = try Self.seeded()
        defer { h.remove() }
        let expr = #"lifecycle == "dormant" and count(purchase, 365d) >= 1"#
        let count = try h.run(["audience", expr, "--at", Self.at, "--count"])
        #expect(count.status == 0, "\(count.stderr)")
        let n = Int(count.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        #expect(n > 0)
        let json = try h.run(["audience", expr, "--at", Self.at, "--format", "json"])
        let lines = json.stdout.split(separator: "\n")
        #expect(lines.count == n)
        #expect(lines.allSatisfy { $0.hasPrefix(#"{"id":"u"#) && $0.hasSuffix("\"}") })
        let table = try h.run(["audience", expr, "--at", Self.at, "--show", "3"])
        #expect(table.stdout.contains("\(n) of 400 users match at 2026-11-20T00:00:00Z"))
        #expect(table.stdout.contains("dormant"))
    }

    @Test func audienceRejectsABadExpressionWithACaret() throws {
        let h = try Self.seeded()
        defer { h.remove() }
        let r = try h.run(["audience", "plan == 3", "--at", Self.at])
        #expect(r.status == 65)
        #expect(r.stderr.contains("<expression>:1:"), "\(r.stderr)")
        #expect(r.stderr.contains("plan == 3\n"), "\(r.stderr)")
        #expect(r.stderr.contains("^"))
    }

    @Test func audienceOfACampaignSubtractsItsExclusion() throws {
        let h = try Self.seeded()
        defer { h.remove() }
        let r = try h.run(["audience", "--campaign", "vip-offer", "--at", Self.at, "--count"])
        #expect(r.status == 0, "\(r.stderr)")
        let missing = try h.run(["audience", "--campaign", "vip-ofer", "--at", Self.at])
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("did you mean 'vip-offer'?"))
    }

    @Test func importReportsBadRowsKeepsGoodOnesAndIsIdempotent() throws {
        let h = try CLIHarness.make()
        defer { h.remove() }
        try FileManager.default.createDirectory(atPath: h.root + "/var", withIntermediateDirectories: true)
        try h.write(
            "var/users.ndjson",
            """
            {"id":"a1","email":"a@example.com","country":"CN","avg_order_value":12.5}
            {"email":"no-id@example.com"}
            {"id":"a2","avg_order_value":"lots"}
            {"id":"a3","created_at":"2026-11-02T08:15:00+08:00"}

            """)
        let first = try h.run(["users", "import", "var/users.ndjson"])
        #expect(first.status == 65)
        #expect(first.stderr.contains("var/users.ndjson:2:"), "\(first.stderr)")
        #expect(first.stderr.contains("var/users.ndjson:3:"), "\(first.stderr)")
        #expect(first.stdout.contains("2 inserted"), "\(first.stdout)")
        let again = try h.run(["users", "import", "var/users.ndjson"])
        #expect(again.stdout.contains("0 inserted"), "\(again.stdout)")
        let show = try h.run(["users", "show", "a3", "--at", Self.at])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("2026-11-02T00:15:00Z"))
    }

    @Test func usersShowDrawsProfileDerivedFieldsAndHeatmap() throws {
        let h = try Self.seeded()
        defer { h.remove() }
        let r = try h.run(["users", "show", "u0000001", "--at", Self.at])
        #expect(r.status == 0, "\(r.stderr)")
        for part in ["Profile", "lifecycle", "rfm_r rfm_f rfm_m", "Preferences", "Activity by local hour", "Mon  ", "Sun  "] {
            #expect(r.stdout.contains(part), "missing \(part)")
        }
        let unknown = try h.run(["users", "show", "nobody"])
        #expect(unknown.status == 65)
    }

    @Test func badAtIsAUsageError() throws {
        let h = try CLIHarness.make()
        defer { h.remove() }
        let r = try h.run(["audience", "true", "--at", "yesterday-ish"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--at"))
    }

    @Test func missingConfigIsAUsageError() throws {
        let h = try CLIHarness.make()
        defer { h.remove() }
        let r = try h.run(["validate"], environment: ["HERALD_CONFIG": h.root + "/nope.yaml"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("nope.yaml"))
    }
}
