import Foundation
import HeraldCore
import HeraldLedger
import HeraldSQLite
import Testing

/// `herald logs` and `herald stats` against the built binary, with the ledger written through the library
/// into the project's store file (as heraldd would write it).
@Suite("herald logs / stats", .serialized)
struct LogsStatsCLITests {
    /// 2026-11-18T11:06:40Z, when the seeded rows are decided.
    static let t0: Int64 = 1_795_000_000

    /// A project folder and its store, with the ledger's tables created.
    static func project() throws -> (CLIHarness, SQLiteStore, SQLiteLedger) {
        let h = try CLIHarness.make()
        try FileManager.default.createDirectory(atPath: h.root + "/var", withIntermediateDirectories: true)
        let store = try SQLiteStore(path: h.root + "/var/herald.db")
        return (h, store, try SQLiteLedger(pool: store.pool))
    }

    /// A row decided at `at`.
    static func row(
        _ campaign: String, _ user: String, _ status: LedgerStatus, at: Int64 = t0, reason: String? = nil,
        variant: String? = nil, sentAt: Int64? = nil
    ) -> LedgerEntry {
        var e = LedgerEntry(
            idempotencyKey: "\(campaign)/occ/\(user)/1", campaign: campaign, user: user, status: status,
            channel: .email, scheduledAt: at, createdAt: at)
        e.address = "\(user)@example.com"
        e.reason = reason
        e.variant = variant
        e.sentAt = sentAt
        e.triggerAt = at
        return e
    }

    /// Moves `campaign`'s row of `user` to `status`.
    static func move(
        _ ledger: SQLiteLedger, _ campaign: String, _ user: String, _ status: LedgerStatus, at: Int64,
        error: String? = nil
    ) async throws {
        let moved = try await ledger.updateStatus(
            key: "\(campaign)/occ/\(user)/1", to: status, reason: nil, error: error, providerMessageID: nil,
            at: at)
        #expect(moved)
    }

    /// Each line of `text` as a JSON object.
    static func jsonLines(_ text: String) throws -> [[String: Any]] {
        try DecisionCLITests.jsonLines(text)
    }

    @Test func logsPrintsFilteredRowsAsATableAndAsJSONLines() async throws {
        let (h, _, ledger) = try Self.project()
        defer { h.remove() }
        let now = Int64(Date().timeIntervalSince1970)
        _ = try await ledger.record([
            Self.row("vip-offer", "alice", .scheduled, at: Self.t0),
            Self.row("vip-offer", "bob", .suppressed, at: Self.t0 + 10, reason: "opted_out:topic"),
            Self.row("vip-offer", "carol", .holdout, at: now - 3600),
            Self.row("winback-dormant", "dave", .scheduled, at: Self.t0 + 20),
        ])
        try await Self.move(ledger, "vip-offer", "alice", .sending, at: Self.t0 + 100)
        try await Self.move(ledger, "vip-offer", "alice", .delivered, at: Self.t0 + 101)
        for _ in 0..<3 { try await Self.move(ledger, "winback-dormant", "dave", .sending, at: Self.t0 + 200) }
        try await Self.move(
            ledger, "winback-dormant", "dave", .dead, at: Self.t0 + 300, error: "550 mailbox unavailable")

        let table = try h.run(["logs"])
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("time") == true && lines.first?.contains("reason/error") == true)
        #expect(lines.count == 6, "\(table.stdout)")
        // Oldest change first; addresses masked; the dead row shows its attempts and error.
        #expect(lines[2].contains("bob") && lines[2].contains("opted_out:topic"))
        #expect(
            lines[3].contains("alice") && lines[3].contains("a***@example.com")
                && lines[3].contains("delivered"))
        #expect(
            lines[4].contains("dave") && lines[4].contains(" 3 ")
                && lines[4].contains("550 mailbox unavailable"))
        #expect(lines[5].contains("carol") && lines[5].contains("holdout"))
        #expect(!table.stdout.contains("alice@example.com"))

        let json = try h.run(["logs", "--campaign", "vip-offer", "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let objects = try Self.jsonLines(json.stdout)
        #expect(objects.map { $0["user"] as? String } == ["bob", "alice", "carol"])
        let alice = objects[1]
        let columns: Set = [
            "id", "idempotency_key", "campaign", "occurrence", "topic", "transactional", "variant", "user",
            "channel",
            "address", "status", "reason", "scheduled_at", "attempts", "provider_message_id", "error",
            "created_at",
            "updated_at", "trigger_at", "window_end", "sent_at", "opened_at", "clicked_at",
        ]
        #expect(Set(alice.keys) == columns)
        #expect(
            alice["address"] as? String == "a***@example.com" && alice["status"] as? String == "delivered")
        #expect(alice["attempts"] as? Int == 1 && alice["updated_at"] as? String == "2026-11-18T11:08:21Z")
        #expect(alice["created_at"] as? String == "2026-11-18T11:06:40Z" && alice["sent_at"] is NSNull)

        // Filters combine; --since takes a duration or a time; --limit keeps the newest.
        /// The users of `herald logs --format json ARGS`, in order.
        func users(_ args: [String]) throws -> [String] {
            let r = try h.run(["logs", "--format", "json"] + args)
            #expect(r.status == 0, "\(r.stderr)")
            return try Self.jsonLines(r.stdout).compactMap { $0["user"] as? String }
        }
        #expect(try users(["--user", "dave", "--status", "dead"]) == ["dave"])
        #expect(try users(["--campaign", "vip-offer", "--status", "dead"]).isEmpty)
        #expect(try users(["--since", "24h"]) == ["carol"])
        #expect(try users(["--since", "2026-11-18T11:08:21Z"]) == ["alice", "dave", "carol"])
        #expect(
            try users(["--since", "2026-11-18T19:08:21+08:00", "--campaign", "vip-offer"]) == [
                "alice", "carol",
            ])
        #expect(try users(["--limit", "2"]) == ["dave", "carol"])

        // A configured campaign that has decided nothing yet is just empty; an unknown id gets a suggestion.
        let idle = try h.run(["logs", "--campaign", "flash-sale"])
        #expect(idle.status == 0 && idle.stderr.isEmpty, "\(idle.stderr)")
        let unknown = try h.run(["logs", "--campaign", "vip-ofer"])
        #expect(
            unknown.status == 0 && unknown.stderr.contains("did you mean 'vip-offer'?"), "\(unknown.stderr)")
    }

    @Test func badStatusOrSinceIsAUsageErrorWithASuggestion() throws {
        let (h, _, _) = try Self.project()
        defer { h.remove() }
        let status = try h.run(["logs", "--status", "deliverd"])
        #expect(status.status == 64)
        #expect(status.stderr.contains("did you mean 'delivered'?"), "\(status.stderr)")
        #expect(status.stdout.isEmpty)
        let since = try h.run(["logs", "--since", "yesterday"])
        #expect(since.status == 64 && since.stderr.contains("--since 'yesterday'"), "\(since.stderr)")
        #expect(try h.run(["logs", "--limit", "-1"]).status == 64)
        let stats = try h.run(["stats", "vip-ofer"])
        #expect(stats.status == 65 && stats.stderr.contains("did you mean 'vip-offer'?"), "\(stats.stderr)")
    }

    @Test func statsShowsTheFunnelAndEachVariantAgainstTheHoldout() async throws {
        let (h, store, ledger) = try Self.project()
        defer { h.remove() }
        let s = Self.t0
        var rows: [LedgerEntry] = []
        var events: [EventRecord] = []
        /// A purchase by `user` an hour after `t`.
        func converts(_ user: String, after t: Int64) {
            events.append(EventRecord(userID: user, name: "purchase", timestampMillis: (t + 3600) * 1000))
        }
        for i in 0..<40 {  // the holdout: 8 of 40 buy within 7 days of the trigger
            rows.append(Self.row("vip-offer", "h\(i)", .holdout, at: s))
            if i < 8 { converts("h\(i)", after: s) }
        }
        for i in 0..<60 {  // variant a, sent: 21 of 60 buy within 7 days of the send
            rows.append(
                Self.row(
                    "vip-offer", "a\(i)", i < 50 ? .delivered : .sent, at: s, variant: "a", sentAt: s + 60))
            if i < 21 { converts("a\(i)", after: s + 60) }
        }
        for i in 0..<20 {  // variant b: too few to compare
            rows.append(Self.row("vip-offer", "b\(i)", .sent, at: s, variant: "b", sentAt: s + 60))
            if i < 5 { converts("b\(i)", after: s + 60) }
        }
        rows.append(Self.row("vip-offer", "x1", .suppressed, at: s, reason: "opted_out:topic", variant: "a"))
        rows.append(Self.row("vip-offer", "x2", .suppressed, at: s, reason: "no_contact", variant: "b"))
        rows.append(Self.row("birthday-sms", "y1", .delivered, at: s, sentAt: s))
        rows.append(Self.row("retired-campaign", "z1", .sent, at: s, sentAt: s))
        _ = try await ledger.record(rows)
        _ = try await store.insertEvents(events)
        try await store.pool.write { db in
            try db.execute(sql: "UPDATE ledger SET opened_at = sent_at + 10 WHERE user IN ('a0', 'a1', 'b0')")
        }

        let table = try h.run(["stats", "vip-offer"])
        #expect(table.status == 0, "\(table.stderr)")
        for needle in [
            "vip-offer: conversion: purchase within 7d", "audience", "holdout", "opted_out:topic",
            "no_contact",
            "converted", "lift vs holdout (95% CI)", "n too small",
        ] {
            #expect(table.stdout.contains(needle), "missing \(needle) in:\n\(table.stdout)")
        }
        let expected = try #require(ProportionDifference.newcombe(21, of: 61, minus: 8, of: 40))
        let liftText = String(
            format: "%+.1f pp (%+.1f to %+.1f)", expected.difference * 100, expected.low * 100,
            expected.high * 100)
        #expect(table.stdout.contains(liftText), "missing \(liftText) in:\n\(table.stdout)")

        let all = try h.run(["stats", "--format", "json"])
        #expect(all.status == 0, "\(all.stderr)")
        let objects = try Self.jsonLines(all.stdout)
        #expect(
            objects.map { $0["campaign"] as? String } == ["birthday-sms", "retired-campaign", "vip-offer"])
        #expect(objects[0]["conversion"] is NSNull && objects[0]["converted"] is NSNull)
        let vip = objects[2]
        #expect(
            vip["audience"] as? Int == 122 && vip["holdout"] as? Int == 40 && vip["suppressed"] as? Int == 2)
        #expect(vip["sent"] as? Int == 80 && vip["delivered"] as? Int == 50 && vip["opened"] as? Int == 3)
        #expect(vip["converted"] as? Int == 26)
        #expect((vip["suppressed_by_reason"] as? [String: Int]) == ["opted_out:topic": 1, "no_contact": 1])
        let arms = try #require(vip["arms"] as? [[String: Any]])
        #expect(arms.map { $0["arm"] as? String } == ["holdout", "variant", "variant"])
        #expect(
            arms[0]["users"] as? Int == 40 && arms[0]["converted"] as? Int == 8
                && arms[0]["note"] as? String == "baseline")
        // Variant a counts its suppressed user too (intent to treat): 21 of 61.
        #expect(arms[1]["variant"] as? String == "a" && arms[1]["users"] as? Int == 61)
        let low = try #require(arms[1]["ci_low"] as? Double)
        let high = try #require(arms[1]["ci_high"] as? Double)
        #expect(abs(low - expected.low) < 1e-9 && abs(high - expected.high) < 1e-9)
        #expect(
            arms[2]["users"] as? Int == 21 && arms[2]["lift"] is NSNull
                && arms[2]["note"] as? String == "n too small")

        let noGoal = try h.run(["stats", "birthday-sms"])
        #expect(noGoal.stdout.contains("no conversion goal configured"), "\(noGoal.stdout)")
        let retired = try h.run(["stats", "retired-campaign"])
        #expect(retired.stdout.contains("campaign file not found"), "\(retired.stdout)")
        // A configured campaign that has decided nothing yet: an empty funnel, zero conversions.
        let idle = try h.run(["stats", "flash-sale", "--format", "json"])
        #expect(idle.status == 0, "\(idle.stderr)")
        let empty = try #require(try Self.jsonLines(idle.stdout).first)
        #expect(
            empty["audience"] as? Int == 0 && empty["converted"] as? Int == 0
                && (empty["arms"] as? [Any])?.isEmpty == true)
    }

    @Test func followPrintsChangesCommittedAfterItStartedUntilSIGTERM() async throws {
        let (h, _, ledger) = try Self.project()
        defer { h.remove() }
        _ = try await ledger.record([
            Self.row("vip-offer", "alice", .scheduled), Self.row("winback-dormant", "dave", .scheduled),
        ])
        let follow = try FollowedProcess(h, ["logs", "--follow", "--campaign", "vip-offer"])
        defer { follow.stop() }
        #expect(follow.waitFor("a***@example.com"), "no window printed: \(follow.output)")
        try await Self.move(ledger, "winback-dormant", "dave", .sending, at: Self.t0 + 50)
        try await Self.move(ledger, "vip-offer", "alice", .sending, at: Self.t0 + 60)
        #expect(follow.waitFor("sending"), "no change printed: \(follow.output)")
        _ = try await ledger.record([Self.row("vip-offer", "erin", .scheduled, at: Self.t0 + 70)])
        #expect(follow.waitFor("e***@example.com"), "no new row printed: \(follow.output)")
        #expect(follow.terminate(SIGTERM) == 0)
        let lines = follow.output.split(separator: "\n")
        #expect(lines.count == 5, "\(follow.output)")  // header, rule, the window's row, two changes
        #expect(lines[3].contains("2026-11-18T11:07:40Z") && lines[3].contains("alice"))
        #expect(!follow.output.contains("dave"))
    }

    @Test func followAsJSONLinesStopsCleanlyOnSIGINT() async throws {
        let (h, _, ledger) = try Self.project()
        defer { h.remove() }
        _ = try await ledger.record([
            Self.row("vip-offer", "alice", .scheduled), Self.row("vip-offer", "bob", .sent, sentAt: Self.t0),
        ])
        let follow = try FollowedProcess(h, ["logs", "--follow", "--format", "json", "--status", "sent"])
        defer { follow.stop() }
        #expect(follow.waitFor("b***@example.com"), "no window printed: \(follow.output)")
        try await Self.move(ledger, "vip-offer", "alice", .sending, at: Self.t0 + 60)
        try await Self.move(ledger, "vip-offer", "alice", .sent, at: Self.t0 + 61)
        #expect(follow.waitFor("a***@example.com"), "no change printed: \(follow.output)")
        #expect(follow.terminate(SIGINT) == 0)
        let lines = try Self.jsonLines(follow.output)
        #expect(lines.map { $0["user"] as? String } == ["bob", "alice"])
        #expect(lines[0]["history_id"] == nil && lines[0]["status"] as? String == "sent")
        let change = lines[1]
        #expect(change["status"] as? String == "sent" && change["from_status"] as? String == "sending")
        #expect(
            change["updated_at"] as? String == "2026-11-18T11:07:41Z" && change["history_id"] as? Int == 4)
    }
}

/// A `herald` process whose standard output is collected as it arrives, for `--follow`.
final class FollowedProcess: @unchecked Sendable {
    // @unchecked: `condition` guards `buffer` and `closed`; `process` is used from the test's thread only.
    /// The `herald` child.
    private let process = ChildProcess()
    /// Guards the output and signals each new piece of it.
    private let condition = NSCondition()
    /// Standard output so far.
    private var buffer = Data()
    /// True once standard output reached its end.
    private var closed = false

    /// Starts `herald ARGS` in the project folder.
    init(_ h: CLIHarness, _ args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: CLIHarness.binary)
        process.arguments = args
        process.currentDirectoryURL = URL(fileURLWithPath: h.root)
        var env = ProcessInfo.processInfo.environment
        env["HERALD_CONFIG"] = h.root + "/herald.yaml"
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        out.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            condition.lock()
            if data.isEmpty {
                closed = true
                handle.readabilityHandler = nil
            } else {
                buffer.append(data)
            }
            condition.broadcast()
            condition.unlock()
        }
        try launchSerialized(process)
    }

    /// Everything printed so far.
    var output: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Waits until the output contains `needle`; false when the process closes its output or `timeout` passes.
    func waitFor(_ needle: String, timeout: TimeInterval = 60) -> Bool {
        wait(timeout: timeout) { text, _ in text.contains(needle) }
    }

    /// Sends `signal`, waits for the exit and for the rest of the output; the exit status, or -1 when a
    /// signal killed the process.
    func terminate(_ signal: Int32) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        _ = wait(timeout: 10) { _, closed in closed }
        return process.terminationReason == .exit ? process.terminationStatus : -1
    }

    /// Waits on the condition until `done(output, closed)` holds (true) or the output closes or `timeout` passes.
    private func wait(timeout: TimeInterval, until done: (String, Bool) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !done(String(decoding: buffer, as: UTF8.self), closed) {
            if closed || !condition.wait(until: deadline) { return false }
        }
        return true
    }

    /// Kills the process if a failed expectation left it running.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
