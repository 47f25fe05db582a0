import Foundation
import HeraldCore
import HeraldLedger
import Testing

/// The ingest rules at the command line (docs/api.md): formats, summaries, user-id arguments, and output that
/// shows the control characters of stored values escaped.
@Suite("herald import rules", .serialized)
struct IngestCLITests {
    @Test func eventsFromCSVAreAUsageErrorListingTheFormats() throws {
        let h = try CLIHarness.make()
        defer { h.remove() }
        try h.write("events.csv", "user_id,event,timestamp\nu1,view,1\n")
        let explicit = try h.run(["events", "import", "events.csv", "--format", "csv"])
        #expect(explicit.status == 64, "\(explicit.stderr)")
        #expect(explicit.stderr.contains("ndjson or segment"), "\(explicit.stderr)")
        let guessed = try h.run(["events", "import", "events.csv"])
        #expect(guessed.status == 64, "\(guessed.stderr)")
        #expect(guessed.stderr.contains("--format ndjson or --format segment"), "\(guessed.stderr)")
    }

    @Test func theSummarySaysInsertedUpdatedAndUnchanged() throws {
        let h = try CLIHarness.make()
        defer { h.remove() }
        try h.write("u.ndjson", #"{"id":"u1"}"# + "\n" + #"{"id":"u2","email":"a@b.example"}"# + "\n")
        let first = try h.run(["users", "import", "u.ndjson"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(
            first.stdout.contains("2 rows read, 2 inserted, 0 updated, 0 unchanged, 0 rejected"),
            "\(first.stdout)")
        try h.write("u.ndjson", #"{"id":"u1"}"# + "\n" + #"{"id":"u2","email":"c@d.example"}"# + "\n")
        let second = try h.run(["users", "import", "u.ndjson"])
        #expect(
            second.stdout.contains("2 rows read, 0 inserted, 1 updated, 1 unchanged, 0 rejected"),
            "\(second.stdout)")
    }

    @Test func userArgumentsOutsideTheAlphabetAreUsageErrors() throws {
        let h = try CLIHarness.make()
        defer { h.remove() }
        for args in [
            ["prefs", "set", "u1\u{1B}[2J", "--all", "--opt-out"], ["prefs", "show", "u1\n"],
            ["users", "show", " u1"],
            ["why", "u1\u{7}", "vip-offer"], ["send-test", "vip-offer", "--user", "a\u{202E}b"],
        ] {
            let r = try h.run(args)
            #expect(r.status == 64, "\(args): \(r.stderr)")
            #expect(!r.stderr.contains("\u{1B}") && !r.stderr.contains("\u{202E}"), "\(r.stderr)")
        }
    }

    /// A bad row holding an ESC is reported with the ESC escaped; values stored before the id rule (or an
    /// error text from a provider) print escaped in `herald logs`, one row per line.
    @Test func storedControlCharactersPrintEscaped() async throws {
        let (h, store, ledger) = try LogsStatsCLITests.project()
        defer { h.remove() }
        try h.write("u.csv", "id,email\nok,a@b.example\nbad\u{1B}[31m,x@y.example\n")
        let csv = try h.run(["users", "import", "u.csv"])
        #expect(csv.status == 65)
        #expect(
            csv.stderr.contains(#"u.csv:3:1: error: 'id' must not hold control characters (found \u{1B})"#))
        #expect(!csv.stderr.contains("\u{1B}"), "\(csv.stderr)")
        // A raw ESC is not JSON: the row is shown under its error, escaped.
        try h.write("u.ndjson", "{\"id\":\"bad\u{1B}[2J\"}\n")
        let ndjson = try h.run(["users", "import", "u.ndjson"])
        #expect(ndjson.status == 65)
        #expect(ndjson.stderr.contains(#"{"id":"bad\u{1B}[2J"}"#), "\(ndjson.stderr)")
        #expect(!ndjson.stderr.contains("\u{1B}"), "\(ndjson.stderr)")

        let legacy = "old\n2026-11-18T11:06:40Z  forged  row"
        var row = LogsStatsCLITests.row("welcome", legacy, .scheduled)
        row.address = nil
        #expect(try await ledger.record([row]) == 1)
        try await LogsStatsCLITests.move(
            ledger, "welcome", legacy, .failed, at: LogsStatsCLITests.t0 + 1,
            error: "550 \u{1B}[41mno such user\r\n")
        _ = store
        let logs = try h.run(["logs"])
        #expect(logs.status == 0, "\(logs.stderr)")
        #expect(!logs.stdout.contains("\u{1B}") && !logs.stdout.contains("\r"))
        let lines = logs.stdout.split(separator: "\n")
        #expect(lines.count == 3, "\(logs.stdout)")  // header, rule, the one row
        #expect(lines.last?.contains(#"old\n2026-11-18T11:06:40Z  forged  row"#) == true, "\(logs.stdout)")
        #expect(lines.last?.contains(#"550 \u{1B}[41mno such user\r\n"#) == true, "\(logs.stdout)")
    }
}
