import Foundation
import Testing

@testable import HeraldCore

/// The user-id alphabet, the escaping of control characters for terminals and logs, and `ingest:` in herald.yaml
/// (docs/api.md).
@Suite("Ingest rules: user ids, visible text, ingest config")
struct IngestRulesTests {
    @Test(arguments: [
        "u1", "a/b", "a b", "用户-42", "x@example.com", "a\\nb", "é", String(repeating: "a", count: 256),
        String(repeating: "é", count: 128), "...", ".a",
    ])
    func validIDs(_ id: String) {
        #expect(UserID.problem(id) == nil, "\(id)")
    }

    /// (id, words the reason must hold)
    @Test(arguments: [
        ("", "empty"), ("u1\ncritical", "\\n"), ("u1\r", "\\r"), ("\u{1B}[31mred", "\\u{1B}"),
        ("tab\there", "\\t"),
        ("nul\u{0}", "\\u{0}"), ("del\u{7F}", "\\u{7F}"), ("c1\u{9B}2J", "\\u{9B}"),
        ("ls\u{2028}", "\\u{2028}"),
        ("ps\u{2029}", "\\u{2029}"), ("rlo\u{202E}gpj.exe", "\\u{202E}"), ("iso\u{2066}x", "\\u{2066}"),
        (" u1", "whitespace"), ("u1 ", "whitespace"), ("\u{3000}u1", "whitespace"),
        ("u1\u{A0}", "whitespace"),
        (".", "'.'"), ("..", "'..'"), (String(repeating: "a", count: 257), "257 bytes"),
        (String(repeating: "é", count: 129), "258 bytes"),
    ])
    func invalidIDs(_ id: String, _ reason: String) throws {
        let problem = try #require(UserID.problem(id), "\(VisibleText.escape(id)) was accepted")
        #expect(problem.contains(reason), "\(problem)")
        // The reason itself prints safely.
        #expect(!problem.unicodeScalars.contains(where: VisibleText.isControl))
    }

    @Test(arguments: [
        ("plain text", "plain text"), ("a\nb", "a\\nb"),
        ("\u{1B}[31mred\u{1B}[0m", "\\u{1B}[31mred\\u{1B}[0m"),
        ("tab\t", "tab\\t"), ("cr\r\n", "cr\\r\\n"), ("\u{9B}", "\\u{9B}"), ("\u{7F}", "\\u{7F}"),
        ("a\u{2028}b", "a\\u{2028}b"), ("\u{202E}x", "\\u{202E}x"), ("退订 ✓ é", "退订 ✓ é"),
        ("back\\slash", "back\\slash"),
        ("\u{200D}👩‍💻", "\u{200D}👩‍💻"),
    ])
    func escapesControlCharactersVisibly(_ text: String, _ expected: String) {
        let escaped = VisibleText.escape(text)
        #expect(escaped == expected)
        #expect(!escaped.unicodeScalars.contains(where: VisibleText.isControl))
        #expect(VisibleText.escape(escaped) == escaped, "escaping twice changes nothing")
    }

    @Test func escapeLinesKeepsLineFeedsOnly() {
        #expect(VisibleText.escapeLines("Hi \u{1B}[2J\nbye\r\n") == "Hi \\u{1B}[2J\nbye\\r\n")
    }

    /// A bad import row holding an ESC or a newline prints as one line, its caret still under the character
    /// it names.
    @Test func diagnosticsShowControlCharactersEscapedWithTheCaretInPlace() {
        let d = Diagnostic(
            at: SourceLocation(file: "users.csv", line: 2, column: 4),
            "'id' must not hold control characters",
            sourceLine: "\u{1B}[2Ju2,\u{1B}[31m", length: 1)
        #expect(
            d.description
                == "users.csv:2:4: error: 'id' must not hold control characters\n\\u{1B}[2Ju2,\\u{1B}[31m\n        ^"
        )
        let quoted = Diagnostic(at: nil, "bad value \"a\nforged: critical\"")
        #expect(quoted.description == "error: bad value \"a\\nforged: critical\"")
    }

    @Test func ingestSkewIsConfigurableAndDefaultsTo24Hours() throws {
        let (plain, _) = HeraldConfig.parse(
            yaml: "store: { sqlite: h.db }\n", file: "h.yaml", baseDirectory: "/tmp", environment: [:])
        #expect(try #require(plain).ingest.maxFutureSkew == 86_400)
        let (set, _) = HeraldConfig.parse(
            yaml: "store: { sqlite: h.db }\ningest: { max_future_skew: 2h }\n", file: "h.yaml",
            baseDirectory: "/tmp",
            environment: [:])
        let ingest = try #require(set).ingest
        #expect(ingest.maxFutureSkew == 7200)
        #expect(ingest.latestEventMillis(now: 1000) == 8_200_000)
        let (bad, diagnostics) = HeraldConfig.parse(
            yaml: "ingest:\n  max_future_skew: later\n", file: "h.yaml", baseDirectory: "/tmp",
            environment: [:])
        #expect(bad == nil)
        #expect(
            diagnostics.map(\.description).contains {
                $0.hasPrefix("h.yaml:2:20: error: ingest.max_future_skew: expected a duration")
            }, "\(diagnostics)")
    }
}

/// A decision's send time is never after its window: quiet hours that last past the window's end make it
/// `window_missed` at planning, instead of a row scheduled after its window (which would count toward the caps
/// until it expired at dispatch).
@Suite("Decision: the send time stays inside the window")
struct SendWithinWindowTests {
    typealias F = DecisionFixture

    static let quiet = PolicyConfig(
        quietHours: QuietHours(
            from: ClockTime(hour: 21, minute: 0), to: ClockTime(hour: 8, minute: 0), channels: [.sms]))

    @Test func quietHoursPastTheWindowEndAreWindowMissed() {
        // 22:00 UTC, a 2-hour window: quiet hours end at 08:00, after the window.
        let start = F.t("2026-11-23T22:00:00Z")
        let u = F.user("u1", phone: "+15550001111", timezone: "UTC")
        let d = F.decide(F.campaign(within: 2 * 3600, channel: .sms), u, start: start, policy: Self.quiet)
        #expect(d.sendAt == nil && d.outcome == .suppressed && d.reason == "window_missed", "\(d)")
        // A window reaching past the quiet hours' end sends at their end.
        let long = F.decide(F.campaign(within: 12 * 3600, channel: .sms), u, start: start, policy: Self.quiet)
        #expect(long.sendAt == F.t("2026-11-24T08:00:00Z"))
    }

    /// Every strategy, zone and window length: a send is inside [start, end).
    @Test(arguments: [Campaign.SendStrategy.immediate, .localTime, .bestTime])
    func aSendIsNeverAfterTheWindowEnd(_ strategy: Campaign.SendStrategy) {
        let zones = ["UTC", "Asia/Shanghai", "America/New_York", "Pacific/Chatham", "Asia/Kathmandu"]
        let base = F.t("2026-11-23T00:00:00Z")
        for (z, zone) in zones.enumerated() {
            for hours in [1, 2, 5, 9, 11, 13, 30] {
                for offset in stride(from: 0, to: 24, by: 1) {
                    let start = base + Int64(offset) * 3600 + Int64(z) * 600
                    let within = Int64(hours) * 3600
                    let u = F.user("u\(z)", phone: "+15550001111", timezone: zone, events: [start - 86_400])
                    let c = F.campaign(
                        strategy: strategy, within: within, localTime: ClockTime(hour: 7, minute: 30),
                        channel: .sms)
                    let d = F.decide(c, u, start: start, policy: Self.quiet)
                    guard let at = d.sendAt else {
                        #expect(d.reason == "window_missed")
                        continue
                    }
                    #expect(
                        at >= start && at < start + within, "\(zone) \(offset)h +\(hours)h: \(at - start)")
                }
            }
        }
    }
}
