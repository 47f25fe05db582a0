import Foundation
import HeraldCore
import HeraldLedger
import HeraldSQLite
import Testing

/// Journeys through the `herald` binary with the example campaigns (docs/journeys.md): `events import`
/// moving running instances at once, `dry-run --simulate` and `stats` per path.
@Suite("herald journeys", .serialized)
struct JourneyCLITests {
    /// A project with the example campaigns, its store and ledger, and the example journey `id`.
    static func project(_ id: String) throws -> (CLIHarness, SQLiteLedger, JourneyDefinition) {
        let h = try CLIHarness.make()
        try FileManager.default.createDirectory(atPath: h.root + "/var", withIntermediateDirectories: true)
        let store = try SQLiteStore(path: h.root + "/var/herald.db")
        let (config, _) = HeraldConfig.load(path: h.root + "/herald.yaml", environment: [:])
        let c = try #require(config)
        let journeys = CampaignSet.loadAll(directory: c.campaignsDirectory, config: c).journeys
        return (h, try SQLiteLedger(pool: store.pool), try #require(journeys.first { $0.id == id }))
    }

    static func instance(_ j: JourneyDefinition, _ user: String, step: String, entered: Int64) -> JourneyInstance {
        JourneyInstance(
            journey: j.id, id: "ev-\(user)", user: user, version: j.version.hex, step: step, reachedAt: entered,
            dueAt: entered + 86_400, enteredAt: entered)
    }

    /// Imported events answer a `wait_for` and end instances by `exit_when` at once, as the API's do; an exit
    /// event from before the instance entered does not end it.
    @Test func importedEventsMoveRunningInstancesAtOnce() async throws {
        let (h, ledger, cart) = try Self.project("cart-recovery")
        defer { h.remove() }
        let now = Int64(Date().timeIntervalSince1970)
        let config = try #require(HeraldConfig.load(path: h.root + "/herald.yaml", environment: [:]).0)
        let winback = try #require(
            CampaignSet.loadAll(directory: config.campaignsDirectory, config: config).journeys
                .first { $0.id == "winback-journey" })
        for user in ["buyer", "idle"] {
            let i = Self.instance(cart, user, step: "grace", entered: now - 60)
            #expect(try await ledger.enterJourney(i, reEntryAfter: nil))
        }
        for user in ["back", "old-buyer"] {
            let i = Self.instance(winback, user, step: "await-visit", entered: now - 3600)
            #expect(try await ledger.enterJourney(i, reEntryAfter: nil))
        }
        let events = [
            #"{"user_id":"buyer","event":"purchase","timestamp":\#(now - 30)}"#,
            #"{"user_id":"idle","event":"page_view","timestamp":\#(now - 30)}"#,
            #"{"user_id":"back","event":"purchase","timestamp":\#(now - 10)}"#,
            #"{"user_id":"old-buyer","event":"purchase","timestamp":\#(now - 86_400)}"#,
        ]
        try h.write("events.ndjson", events.joined(separator: "\n") + "\n")
        let r = try h.run(["events", "import", "events.ndjson"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("journeys: 2 instances moved by imported events"), "\(r.stdout)")
        var after: [String: JourneyInstance] = [:]
        for user in ["buyer", "idle"] { after[user] = try await ledger.journeyInstances(journey: cart.id, user: user).first }
        for user in ["back", "old-buyer"] {
            after[user] = try await ledger.journeyInstances(journey: winback.id, user: user).first
        }
        #expect(after["buyer"]?.status == .completed && after["buyer"]?.step == "exit")
        #expect(after["idle"]?.status == .active && after["idle"]?.step == "grace")
        #expect(after["back"]?.status == .exitedEvent("purchase"))
        #expect(after["old-buyer"]?.status == .active)
    }

    /// `dry-run --simulate`: the sample users enter the cart recovery at once; with no further events each
    /// times out of the grace hour, gets the reminder, times out of the day and gets the final offer on day 2.
    @Test func dryRunSimulatesTheAudienceDayByDay() async throws {
        let (h, _, _) = try Self.project("cart-recovery")
        defer { h.remove() }
        let users = (1...3).map { #"{"id":"u\#($0)","email":"u\#($0)@example.com","first_name":"U\#($0)"}"# }
        try h.write("users.ndjson", users.joined(separator: "\n") + "\n")
        #expect(try h.run(["users", "import", "users.ndjson"]).status == 0)
        let at = "2026-11-02T12:00:00Z"
        let r = try h.run(["dry-run", "cart-recovery", "--simulate", "3d", "--at", at, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try r.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        let byStep = Dictionary(uniqueKeysWithValues: lines.map { ($0["step"] as? String ?? "", $0) })
        #expect(byStep["grace"]?["days"] as? [Int] == [3, 0, 0])
        #expect((byStep["grace"]?["outcomes"] as? [String: Int]) == ["timeout": 3])
        #expect(byStep["reminder"]?["days"] as? [Int] == [3, 0, 0])
        #expect((byStep["reminder"]?["outcomes"] as? [String: Int]) == ["sent": 3])
        #expect(byStep["final-offer"]?["days"] as? [Int] == [0, 3, 0])
        #expect(byStep["exit"]?["entered"] as? Int == 3)
        #expect((byStep["exit"]?["outcomes"] as? [String: Int]) == ["completed": 3])
        // Without --simulate: where the users stand at entry (all waiting in the grace hour).
        let entry = try h.run(["dry-run", "cart-recovery", "--at", at])
        #expect(entry.status == 0, "\(entry.stderr)")
        #expect(entry.stdout.contains("entry      3 of 3 users at 2026-11-02T12:00:00Z"), "\(entry.stdout)")
        #expect(entry.stdout.contains("still in   grace 3"), "\(entry.stdout)")
        let campaign = try h.run(["dry-run", "flash-sale", "--simulate", "3d"])
        #expect(campaign.status == 64 && campaign.stderr.contains("--simulate applies to journeys"), "\(campaign.stderr)")
    }

    /// `stats` per path: the control path and the treated path, each with its conversion counted from entry.
    @Test func statsCountConversionPerPath() async throws {
        let (h, ledger, winback) = try Self.project("winback-journey")
        defer { h.remove() }
        let t: Int64 = 1_795_000_000
        let store = try SQLiteStore(path: h.root + "/var/herald.db")
        _ = try await store.insertEvents([
            EventRecord(userID: "control", name: "purchase", timestampMillis: (t - 10) * 1000),
            EventRecord(userID: "treated", name: "purchase", timestampMillis: (t + 86_400) * 1000),
        ])
        for user in ["control", "treated"] {
            #expect(try await ledger.enterJourney(Self.instance(winback, user, step: "control", entered: t), reEntryAfter: nil))
        }
        func record(_ user: String, _ step: String, _ outcome: String, _ next: String) -> JourneyStepRecord {
            JourneyStepRecord(journey: winback.id, instance: "ev-\(user)", user: user, step: step, at: t, outcome: outcome, next: next)
        }
        var control = Self.instance(winback, "control", step: "control", entered: t)
        control.status = .completed
        control.step = "exit"
        control.dueAt = nil
        #expect(try await ledger.moveInstance(control, expectedMoves: 0, records: [record("control", "control", "split:2", "exit")]))
        var treated = Self.instance(winback, "treated", step: "await-visit", entered: t)
        treated.status = .exitedEvent("purchase")
        treated.step = "exit"
        treated.dueAt = nil
        let path = [
            record("treated", "control", "split:1", "miss-you"), record("treated", "miss-you", "sent", "await-visit"),
            record("treated", "await-visit", "exited:purchase", "exit"),
        ]
        #expect(try await ledger.moveInstance(treated, expectedMoves: 0, records: path))

        let r = try h.run(["stats", "winback-journey", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(body["instances"] as? Int == 2)
        let paths = try #require(body["paths"] as? [[String: Any]])
        let byEnd = Dictionary(uniqueKeysWithValues: paths.map { ($0["end"] as? String ?? "", $0) })
        #expect(byEnd["completed"]?["steps"] as? [String] == ["control"])
        #expect(byEnd["completed"]?["converted"] as? Int == 0)
        #expect(byEnd["exited:purchase"]?["steps"] as? [String] == ["control", "miss-you", "await-visit"])
        #expect(byEnd["exited:purchase"]?["converted"] as? Int == 1)
        let steps = try #require(body["steps"] as? [[String: Any]])
        #expect(steps.first?["reached"] as? Int == 2)
        let table = try h.run(["stats", "winback-journey"])
        #expect(table.stdout.contains("control → miss-you → await-visit → exited:purchase"), "\(table.stdout)")
    }
}
