import Foundation
import HeraldCore
import HeraldLedger
import HeraldSQLite
import Testing

/// heraldd as a process, killed with SIGKILL at random moments while it sends 10,000 signed webhooks to the
/// verifying receiver (Tests/Fixtures/webhook_receiver.py); restarted each time until the work is done.
@Suite(.serialized) struct DaemonCrashTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    /// The `heraldd` built beside the tests.
    static var heraldd: String {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for config in ["debug", "release"] {
            let path = repo.appendingPathComponent(".build/\(config)/heraldd").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return repo.appendingPathComponent(".build/debug/heraldd").path
    }

    /// A project folder: herald.yaml sending every US user one webhook to `url`, and the store seeded with `users`.
    static func project(_ dir: TempDirectory, url: String, users: Int) async throws -> SQLiteStore {
        try dir.write("secret", secret)
        try FileManager.default.createDirectory(atPath: dir.file("campaigns"), withIntermediateDirectories: true)
        try """
            store:
              sqlite: var/herald.db
            campaigns: campaigns
            api:
              listen: 127.0.0.1:\(freePort())
              public_url: http://127.0.0.1:8025
            attributes:
              country: string
            channels:
              outbox: var/outbox
              webhook:
                endpoints:
                  hook: { url: "\(url)", secret_file: \(dir.file("secret")), rate: 100000/s }
            """.write(toFile: dir.file("herald.yaml"), atomically: true, encoding: .utf8)
        let start = TimestampParser.formatUTC(seconds: Int64(Date().timeIntervalSince1970) - 60)
        try """
            id: crash
            name: Crash test
            status: active
            audience:
              segment: country == "US"
            trigger:
              schedule: \(start)
            send_time:
              strategy: immediate
              within: 1d
            message:
              channel: webhook
              webhook:
                endpoint: hook
                body: { "user": "{{user_id}}" }
            """.write(toFile: dir.file("campaigns/crash.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.file("var"), withIntermediateDirectories: true)
        var schema = AttributeSchema()
        schema.types["country"] = .string
        let store = try SQLiteStore(path: dir.file("var/herald.db"), schema: schema)
        for chunk in stride(from: 0, to: users, by: 5_000) {
            _ = try await store.upsertUsers(
                (chunk..<min(users, chunk + 5_000)).map { i in
                    var u = UserUpsert(id: String(format: "u%05d", i))
                    u.attributes = ["country": .string("US")]
                    return u
                })
        }
        return store
    }

    @Test func killNineDuringDispatchLosesNothingAndRepeatsOnlyReclaimedSends() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (receiver, port) = try await startWebhookReceiver(dir, secrets: [Self.secret])
        defer { receiver.stop() }
        let total = 10_000
        let store = try await Self.project(dir, url: "http://127.0.0.1:\(port)/hooks/crash", users: total)
        let ledger = try SQLiteLedger(pool: store.pool)
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        var runs = 0
        func sentCount() async throws -> Int {
            try await ledger.entries(campaign: "crash", user: nil, limit: total + 1).filter { $0.status == .sent }.count
        }
        func finished() async throws -> Bool {
            let rows = try await ledger.entries(campaign: "crash", user: nil, limit: total + 1)
            return rows.count == total && rows.allSatisfy { $0.status == .sent }
        }
        while true {
            runs += 1
            let daemon = try TestServer(
                "heraldd", Self.heraldd, ["--config", dir.file("herald.yaml")], log: dir.file("heraldd-\(runs).log"))
            if kills < 20 {
                if kills < 3 {
                    // Early runs: a random moment of start-up and planning.
                    try await Task.sleep(for: .milliseconds(Int.random(in: 80...700, using: &generator)))
                } else {
                    // Later runs: a random moment shortly after this run's sends have started landing.
                    let before = try await sentCount()
                    try await waitFor("progress in run \(runs); log:\n\(daemon.log.suffix(2000))", timeout: 60) {
                        guard daemon.isAlive else { throw ServerUnavailable("heraldd exited: \(daemon.log)") }
                        return false
                    } orAsync: {
                        if try await sentCount() > before { return true }
                        return try await finished()
                    }
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...120, using: &generator)))
                }
                #expect(daemon.isAlive, "heraldd exited on its own: \(daemon.log)")
                kill(daemon.pid, SIGKILL)
                daemon.process.waitUntilExit()
                kills += 1
                continue
            }
            try await waitFor("the work to complete after \(kills) kills; log:\n\(daemon.log.suffix(2000))", timeout: 120) {
                guard daemon.isAlive else { throw ServerUnavailable("heraldd exited: \(daemon.log)") }
                return false
            } orAsync: {
                try await finished()
            }
            daemon.stop()
            break
        }
        #expect(kills == 20)
        #expect(try await sentCount() == total)
        let rows = try await ledger.entries(campaign: "crash", user: nil, limit: total + 1)
        #expect(rows.count == total)
        #expect(rows.allSatisfy { $0.status == .sent })
        let received = jsonLines(dir.file("record.jsonl"))
        #expect(received.allSatisfy { ($0["verified"] as? Int) == 1 }, "every delivery carries a valid signature")
        var counts: [String: Int] = [:]
        for r in received { counts[r["id"] as? String ?? "", default: 0] += 1 }
        let keys = Set(rows.map(\.idempotencyKey))
        #expect(Set(counts.keys) == keys, "every ledger key reached the receiver, and nothing else did")
        // A key may arrive twice only when a crash left it `sending` (provider accepted, ledger not written)
        // and it was reclaimed: its history says so.
        let repeated = counts.filter { $0.value > 1 }
        for (key, n) in repeated {
            let history = try await ledger.history(key: key)
            let reclaims = history.filter { $0.reason == "lease expired: reclaimed" }.count
            #expect(reclaims >= n - 1, "\(key) arrived \(n) times with \(reclaims) reclaims")
        }
        print("kill -9 × \(kills) over \(runs) runs: \(total) sent, \(received.count) deliveries, \(repeated.count) keys repeated in the documented window")
    }
}

extension DaemonCrashTests {
    @Test func sigtermDuringDispatchDrainsWithin10sAndNothingIsSentTwice() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (receiver, port) = try await startWebhookReceiver(dir, secrets: [Self.secret])
        defer { receiver.stop() }
        let total = 5_000
        let store = try await Self.project(dir, url: "http://127.0.0.1:\(port)/hooks/drain", users: total)
        let ledger = try SQLiteLedger(pool: store.pool)
        func sent() async throws -> Int {
            try await ledger.entries(campaign: "crash", user: nil, limit: total + 1).filter { $0.status == .sent }.count
        }
        let first = try TestServer("heraldd", Self.heraldd, ["--config", dir.file("herald.yaml")], log: dir.file("d1.log"))
        try await waitFor("sends to start; log:\n\(first.log.suffix(2000))", timeout: 60) {
            guard first.isAlive else { throw ServerUnavailable("heraldd exited: \(first.log)") }
            return false
        } orAsync: {
            try await sent() > 0
        }
        let stopAt = Date()
        kill(first.pid, SIGTERM)
        first.process.waitUntilExit()
        let took = Date().timeIntervalSince(stopAt)
        #expect(took < 10, "SIGTERM to exit took \(took) s")
        #expect(first.process.terminationStatus == 0, "\(first.log.suffix(2000))")
        let afterStop = try await sent()
        #expect(afterStop < total, "the drain check needs work left in flight")
        let second = try TestServer("heraldd", Self.heraldd, ["--config", dir.file("herald.yaml")], log: dir.file("d2.log"))
        try await waitFor("the rest to be sent; log:\n\(second.log.suffix(2000))", timeout: 120) {
            guard second.isAlive else { throw ServerUnavailable("heraldd exited: \(second.log)") }
            return false
        } orAsync: {
            try await sent() == total
        }
        second.stop()
        var counts: [String: Int] = [:]
        for r in jsonLines(dir.file("record.jsonl")) { counts[r["id"] as? String ?? "", default: 0] += 1 }
        #expect(counts.count == total)
        let repeated = counts.filter { $0.value > 1 }.map(\.key)
        // A graceful stop records what it sent (or hands rows back unsent): nothing goes out twice.
        #expect(repeated.isEmpty, "\(repeated.count) keys sent twice after a graceful stop, e.g. \(repeated.prefix(3))")
        print("SIGTERM with \(total - afterStop) of \(total) sends left: exit in \(String(format: "%.2f", took)) s, 0 repeats")
    }
}

/// Waits until `done` holds, checking `alive` (which throws when the process died) between polls.
func waitFor(
    _ reason: @autoclosure () -> String, timeout: Double, _ alive: () throws -> Bool,
    orAsync done: () async throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await done() { return }
        _ = try alive()
        try await Task.sleep(for: .milliseconds(100))
    }
    throw ServerUnavailable("timed out after \(Int(timeout)) s: \(reason())")
}
