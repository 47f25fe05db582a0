import Foundation
import HeraldCore
import HeraldStore
import Testing

/// `herald users show` and `audience` reading what the ledger recorded (rows written through the library into
/// the project's store file, as heraldd writes them).
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
}
