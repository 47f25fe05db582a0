import Foundation
import GRDB
import HeraldLedger
import HeraldSQLite
import Testing

/// `herald dry-run`, `why` and `prefs` against the built binary and a real store.
@Suite("herald dry-run / why / prefs", .serialized)
struct DecisionCLITests {
    static let at = CLITests.at

    /// Every row of every table of the store, as text: the logical content a write would change.
    static func dump(_ h: CLIHarness) throws -> [String] {
        let store = try SQLiteStore(path: h.root + "/var/herald.db")
        return try store.pool.read { db in
            let tables = try String.fetchAll(
                db,
                sql:
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
            var out = tables
            for t in tables { out += try Row.fetchAll(db, sql: "SELECT * FROM \"\(t)\"").map(\.description) }
            return out
        }
    }

    /// The store file's bytes with the header counters masked that any open bumps: GRDB's DatabasePool
    /// creates and drops a probe table (`grdb_issue_102`) when it opens a WAL database, which moves the
    /// change counter (offset 24), the schema cookie (40) and version-valid-for (92) — and, on a file without
    /// a free page, adds one free page. Every data, index and schema page must stay identical.
    static func dbBytes(_ h: CLIHarness) throws -> Data {
        var d = try Data(contentsOf: URL(fileURLWithPath: h.root + "/var/herald.db"))
        for range in [24..<28, 40..<44, 92..<96] { d.replaceSubrange(range, with: Data(count: 4)) }
        return d
    }

    static func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func dryRunJSONLinesFollowTheSchemaAndWriteNothing() throws {
        let h = try CLITests.seeded()
        defer { h.remove() }
        let rows = try Self.dump(h)
        let before = try Self.dbBytes(h)
        let r = try h.run(["dry-run", "vip-offer", "--at", Self.at, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try Self.jsonLines(r.stdout)
        #expect(!lines.isEmpty)
        let keys: Set = ["user", "campaign", "outcome", "reason", "variant", "channel", "send_at"]
        for o in lines {
            #expect(Set(o.keys) == keys)
            #expect(o["campaign"] as? String == "vip-offer")
            let outcome = try #require(o["outcome"] as? String)
            #expect(["send", "suppressed", "holdout"].contains(outcome))
            if outcome == "send" {
                let sendAt = try #require(o["send_at"] as? String)
                #expect(sendAt.hasSuffix("Z") && sendAt.count == 20)
                #expect(o["reason"] is NSNull)
                #expect(o["channel"] as? String == "email")
            } else {
                #expect(o["send_at"] is NSNull)
            }
            if outcome == "suppressed" { #expect(o["reason"] is String) }
        }
        // Deterministic: the same plan twice.
        let again = try h.run(["dry-run", "vip-offer", "--at", Self.at, "--format", "json"])
        #expect(again.stdout == r.stdout)
        // why runs the same pipeline: its final JSON line is the dry-run line of that user, for every outcome.
        var seen: Set<String> = []
        for line in r.stdout.split(separator: "\n") {
            let o = try Self.jsonLines(String(line))[0]
            let outcome = "\(o["outcome"] ?? "")\(o["reason"] ?? "")"
            guard seen.insert(outcome).inserted, let user = o["user"] as? String else { continue }
            let why = try h.run(["why", user, "vip-offer", "--at", Self.at, "--format", "json"])
            #expect(why.stdout.split(separator: "\n").last.map(String.init) == String(line))
        }
        #expect(try Self.dbBytes(h) == before, "dry-run and why must not write")
        #expect(try Self.dump(h) == rows)
        #expect(!(try Self.dump(h).contains("ledger")), "a dry-run never creates the ledger")
        #expect(
            !FileManager.default.fileExists(atPath: h.root + "/var/herald.db-wal")
                || (try? Data(contentsOf: URL(fileURLWithPath: h.root + "/var/herald.db-wal")))?.isEmpty
                    != false
        )
    }

    @Test func dryRunTableShowsWhatAMarketerNeeds() throws {
        let h = try CLITests.seeded()
        defer { h.remove() }
        try h.write(
            "campaigns/sms-flash.yaml",
            """
            id: sms-flash
            name: Flash sale SMS
            topic: promotions
            audience:
              segment: phone != ""
            trigger:
              api: true
            send_time:
              strategy: immediate
              within: 24h
            experiment:
              holdout: 20%
            message:
              channel: sms
              sms:
                text: "{{first_name|Hi}}, flash sale: 30% off everything until midnight. Reply STOP to opt out."
            """)
        let r = try h.run(["dry-run", "sms-flash", "--at", "2026-11-20T12:00:00Z", "--show", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        for needle in [
            "audience", "outcome", "holdout", "send via sms", "planned sends by recipient-local hour",
            "sample 1", "sample 2", "GSM-7", "1 segment",
        ] {
            #expect(r.stdout.contains(needle), "missing \(needle) in:\n\(r.stdout)")
        }
        // Quiet hours (21:00–08:00 for SMS in the example config) defer, never drop: no local hour inside them.
        let json = try Self.jsonLines(
            try h.run(["dry-run", "sms-flash", "--at", "2026-11-20T12:00:00Z", "--format", "json"]).stdout)
        #expect(json.contains { $0["outcome"] as? String == "send" })
        #expect(!json.contains { $0["reason"] as? String == "window_missed" })
    }

    @Test func prefsChangeTheNextDecisionAndWhyExplainsIt() throws {
        let h = try CLITests.seeded()
        defer { h.remove() }
        let plan = try Self.jsonLines(
            try h.run(["dry-run", "vip-offer", "--at", Self.at, "--format", "json"]).stdout)
        let user = try #require(plan.first { $0["outcome"] as? String == "send" }?["user"] as? String)
        let why = try h.run(["why", user, "vip-offer", "--at", Self.at])
        #expect(why.status == 0, "\(why.stderr)")
        for needle in [
            "audience", "holdout", "consent", "contact", "caps", "send time", "outcome: send",
            "effective max",
        ] {
            #expect(why.stdout.contains(needle), "missing \(needle) in:\n\(why.stdout)")
        }
        let set = try h.run(["prefs", "set", user, "--topic", "promotions", "--opt-out"])
        #expect(set.status == 0, "\(set.stderr)")
        let show = try h.run(["prefs", "show", user, "--format", "json"])
        #expect(show.stdout.contains("\"promotions\":\"opted_out\""))
        let after = try Self.jsonLines(
            try h.run(["dry-run", "vip-offer", "--at", Self.at, "--format", "json"]).stdout)
        #expect(after.first { $0["user"] as? String == user }?["reason"] as? String == "opted_out:topic")
        let whyAfter = try h.run(["why", user, "vip-offer", "--at", Self.at])
        #expect(whyAfter.stdout.contains("outcome: suppressed (opted_out:topic)"))
        #expect(try h.run(["prefs", "set", user, "--topic", "promotions", "--opt-in"]).status == 0)
        #expect(try h.run(["prefs", "set", user, "--opt-out"]).status == 64)
        #expect(try h.run(["prefs", "set", "nobody", "--all", "--opt-out"]).status == 65)
    }

    @Test func unknownCampaignOrUserExits65() throws {
        let h = try CLITests.seeded()
        defer { h.remove() }
        let r = try h.run(["dry-run", "vip-ofer", "--at", Self.at])
        #expect(r.status == 65)
        #expect(r.stderr.contains("vip-offer"))
        #expect(try h.run(["why", "nobody", "vip-offer", "--at", Self.at]).status == 65)
        #expect(try h.run(["dry-run", "vip-offer", "--at", "yesterday-ish"]).status == 64)
    }
}
