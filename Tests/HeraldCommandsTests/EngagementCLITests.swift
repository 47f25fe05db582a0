import Foundation
import HeraldCore
import HeraldLedger
import HeraldSQLite
import Testing

/// `herald users show`, `audience` and `why` reading what the ledger recorded (rows written through the library
/// into the project's store file, as heraldd writes them).
@Suite("herald users show / audience / why: what the ledger recorded", .serialized)
struct EngagementCLITests {
    static let at = CLITests.at
    static let now: Int64 = try! TimestampParser.parseISO(at).get() / 1000
    static let day: Int64 = 86_400

    /// The sample project with the ledger's tables created.
    static func project() throws -> (CLIHarness, SQLiteLedger) {
        let h = try CLITests.seeded()
        let store = try SQLiteStore(path: h.root + "/var/herald.db")
        return (h, try SQLiteLedger(pool: store.pool))
    }

    /// A row of a campaign without a conversion goal that the provider accepted at `sentAt`.
    static func sent(_ key: String, user: String, at sentAt: Int64) -> LedgerEntry {
        var e = LedgerEntry(
            idempotencyKey: key, campaign: "newsletter", user: user, status: .sent, channel: .email,
            scheduledAt: sentAt, createdAt: sentAt - 60, topic: "news")
        e.sentAt = sentAt
        return e
    }

    @Test func usersShowAndAudienceReadEngagementFromTheLedger() async throws {
        let (h, ledger) = try Self.project()
        defer { h.remove() }
        _ = try await ledger.record([
            Self.sent("n/1/u0000001/1", user: "u0000001", at: Self.now - 2 * Self.day),
            Self.sent("n/2/u0000001/1", user: "u0000001", at: Self.now - Self.day),
            Self.sent("n/0/u0000002/1", user: "u0000002", at: Self.now - 91 * Self.day),
        ])
        #expect(try await ledger.markOpened(key: "n/1/u0000001/1", at: Self.now - 2 * Self.day + 600))
        let show = try h.run(["users", "show", "u0000001", "--at", Self.at])
        #expect(show.status == 0, "\(show.stderr)")
        let line = show.stdout.split(separator: "\n").first { $0.hasPrefix("  engagement ") }
        #expect(
            line?.hasSuffix(
                " 0.50 (1 of 2 messages sent in the last 90 days were opened, clicked or converted)") == true,
            "\(show.stdout)")
        let old = try h.run(["users", "show", "u0000002", "--at", Self.at])
        let none = old.stdout.split(separator: "\n").first { $0.hasPrefix("  engagement ") }
        #expect(none?.hasSuffix(" - (no message sent in the last 90 days)") == true, "\(old.stdout)")
        // The segment language reads the same value.
        let audience = try h.run(["audience", "engagement() >= 0.5", "--at", Self.at, "--format", "json"])
        #expect(audience.status == 0, "\(audience.stderr)")
        #expect(audience.stdout == "{\"id\":\"u0000001\"}\n")
    }

    @Test func whyShowsTheRecordedDecisionFirstThenLabelsTheReEvaluationHypothetical() async throws {
        let (h, ledger) = try Self.project()
        defer { h.remove() }
        let plan = try DecisionCLITests.jsonLines(
            try h.run(["dry-run", "vip-offer", "--at", Self.at, "--format", "json"]).stdout)
        let user = try #require(plan.first { $0["outcome"] as? String == "send" }?["user"] as? String)
        let occurrence = "2026-12-01T09:00:00Z"
        let key = "vip-offer/\(occurrence)/\(user)/1"
        var row = LedgerEntry(
            idempotencyKey: key, campaign: "vip-offer", user: user, status: .suppressed, channel: .email,
            createdAt: Self.now - 3600, topic: "promotions")
        row.reason = "cap:any/7d"
        row.occurrence = occurrence
        _ = try await ledger.record([row])

        let why = try h.run(["why", user, "vip-offer", "--at", Self.at])
        #expect(why.status == 0, "\(why.stderr)")
        let out = why.stdout
        for needle in [
            "Recorded in the ledger", "cap:any/7d", "history of \(key):",
            "\(TimestampParser.formatUTC(seconds: Self.now - 3600))  suppressed (cap:any/7d)", "hypothetical",
            "re-evaluated outcome: send",
        ] {
            #expect(out.contains(needle), "missing \(needle) in:\n\(out)")
        }
        let recorded = try #require(out.range(of: "Recorded in the ledger"))
        let hypothetical = try #require(out.range(of: "Re-evaluated as of \(Self.at) — hypothetical"))
        #expect(recorded.lowerBound < hypothetical.lowerBound)

        let json = try DecisionCLITests.jsonLines(
            try h.run(["why", user, "vip-offer", "--at", Self.at, "--format", "json"]).stdout)
        let first = try #require(json.first)
        #expect(first["recorded"] as? String == key)
        #expect(first["status"] as? String == "suppressed" && first["reason"] as? String == "cap:any/7d")
        #expect(first["occurrence"] as? String == occurrence)
        #expect((first["history"] as? [[String: Any]])?.map { $0["to"] as? String } == ["suppressed"])
        #expect(json.dropFirst().dropLast().allSatisfy { $0["hypothetical"] as? Bool == true })
        #expect(json.last?["outcome"] as? String == "send")

        // A user with no row says so, then re-evaluates.
        let other = try #require(plan.first { $0["user"] as? String != user }?["user"] as? String)
        let none = try h.run(["why", other, "vip-offer", "--at", Self.at])
        #expect(none.stdout.contains("Recorded: no ledger row for \(other) × vip-offer"), "\(none.stdout)")
    }

    @Test func whyNamesThePartOfTheSegmentThatFailed() throws {
        let h = try CLITests.seeded()
        defer { h.remove() }
        let outsiders = try DecisionCLITests.jsonLines(
            try h.run(["audience", "not in_segment(\"vip\")", "--at", Self.at, "--format", "json"]).stdout)
        let user = try #require(outsiders.first?["id"] as? String)
        let why = try h.run(["why", user, "vip-offer", "--at", Self.at])
        #expect(why.status == 0, "\(why.stderr)")
        // vip-offer: in_segment("vip") and country in [...]; vip is rfm_m >= 4 and rfm_f >= 4 (inlined).
        #expect(why.stdout.contains("does not match: in_segment(\"vip\") and country in"), "\(why.stdout)")
        #expect(why.stdout.contains("segment: (>= rfm_"), "\(why.stdout)")
        #expect(why.stdout.contains(" is false: rfm_"), "\(why.stdout)")
    }
}
