import Foundation
import GRDB
import HeraldCore
import HeraldDelivery
import HeraldLedger
import HeraldSQLite
import Testing

/// heraldd as a process running a five-step journey with second-scale waits for 2,000 users, killed with
/// SIGKILL at random moments and restarted until every instance ended (docs/journeys.md, "At most once"):
/// every user ends in exactly one final status, every message step reaches the verifying receiver at most
/// once per instance (a send the provider accepted whose outcome a kill lost is reclaimed and may repeat:
/// its ledger history says so), and the path each instance took agrees with its ledger rows.
@Suite(.serialized) struct JourneyCrashTests {
    static let secret = DaemonCrashTests.secret
    static let token = "journey-token-0123456789abcdef"
    static let users = 2_000

    static func user(_ i: Int) -> String { String(format: "j%05d", i) }

    static func project(_ dir: TempDirectory, hook: String, port: Int) async throws -> SQLiteStore {
        try dir.write("secret", secret)
        try dir.write("token", token + "\n")
        try FileManager.default.createDirectory(atPath: dir.file("campaigns"), withIntermediateDirectories: true)
        try """
            store:
              sqlite: var/herald.db
            campaigns: campaigns
            api:
              listen: 127.0.0.1:\(port)
              public_url: http://127.0.0.1:\(port)
              token_file: \(dir.file("token"))
            attributes:
              country: string
            channels:
              outbox: var/outbox
              webhook:
                endpoints:
                  hook: { url: "\(hook)", secret_file: \(dir.file("secret")), rate: 100000/s }
            """.write(toFile: dir.file("herald.yaml"), atomically: true, encoding: .utf8)
        func message(_ id: String) -> String {
            """
              - id: \(id)
                message:
                  channel: webhook
                  webhook: { endpoint: hook, body: { "user": "{{user_id}}", "step": "\(id)" } }
                send_time: { strategy: immediate, within: 1h }
            """
        }
        try """
            id: crashy
            name: Journey crash test
            status: active
            audience:
              segment: country == "US"
            trigger:
              event: signed_up
            steps:
            \(message("hello"))
              - id: pause
                wait: 2s
              - id: await
                wait_for: { event: answered, within: 15s }
                on_event: thanks
                on_timeout: nudge
            \(message("nudge"))
                next: exit
            \(message("thanks"))
            """.write(toFile: dir.file("campaigns/crashy.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.file("var"), withIntermediateDirectories: true)
        var schema = AttributeSchema()
        schema.types["country"] = .string
        let store = try SQLiteStore(path: dir.file("var/herald.db"), schema: schema)
        _ = try await store.upsertUsers(
            (0..<users).map { i in
                var u = UserUpsert(id: user(i))
                u.attributes = ["country": .string("US")]
                return u
            })
        return store
    }

    /// `POST /v1/batch` of `event` for users `range`, retried until heraldd acknowledges it (it may be dead).
    static func batch(_ event: String, _ range: Range<Int>, base: String, engine: CurlEngine) async throws {
        let calls = range.map { i in
            #"{"type":"track","userId":"\#(user(i))","event":"\#(event)","messageId":"\#(event)-\#(i)"}"#
        }
        let body = Array(#"{"batch":[\#(calls.joined(separator: ","))]}"#.utf8)
        try await waitFor("heraldd to take a batch of \(event)", timeout: 60) { false } orAsync: {
            let reply = try? await engine.send(
                HTTPRequest(
                    method: .post, url: base + "/v1/batch",
                    headers: [
                        HeaderField("Authorization", "Bearer \(token)"),
                        HeaderField("Content-Type", "application/json"),
                    ], body: body, timeout: .seconds(20)))
            return reply.map { (200..<300).contains($0.status) } ?? false
        }
    }

    /// Instances waiting at `await` now.
    func waiting(_ store: SQLiteStore) async throws -> Int {
        try await store.pool.read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM journey_instances WHERE status = 'active' AND step = 'await'") ?? 0
        }
    }

    @Test func killNineNeverRunsAStepTwiceAndLosesNoInstance() async throws {
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (receiver, hookPort) = try await startWebhookReceiver(dir, secrets: [Self.secret])
        defer { receiver.stop() }
        let port = freePort()
        let base = "http://127.0.0.1:\(port)"
        let store = try await Self.project(dir, hook: "http://127.0.0.1:\(hookPort)/hooks/j", port: port)
        let ledger = try SQLiteLedger(pool: store.pool)
        let engine = CurlEngine(maxConnections: 8)
        defer { engine.shutdown() }
        var generator = SystemRandomNumberGenerator()

        func active() async throws -> Int { try await ledger.journeyStatusCounts(journey: "crashy")["active"] ?? 0 }
        func settled() async throws -> Bool {
            guard try await active() == 0 else { return false }
            let rows = try await ledger.entries(campaign: "crashy", user: nil, limit: 10 * Self.users)
            return rows.allSatisfy { [.sent, .dead].contains($0.status) }
        }

        var runs = 0
        var kills = 0
        var answeredSent = false
        while true {
            runs += 1
            let daemon = try TestServer(
                "heraldd", DaemonCrashTests.heraldd, ["--config", dir.file("herald.yaml")],
                log: dir.file("heraldd-\(runs).log"))
            try await DaemonIngestLoadTests.waitReady(daemon, base: base, engine: engine)
            if runs == 1 {
                for start in stride(from: 0, to: Self.users, by: 500) {
                    try await Self.batch("signed_up", start..<min(Self.users, start + 500), base: base, engine: engine)
                }
            }
            var someWait = false
            if runs >= 3 && !answeredSent {
                // Until some instance waits at `await` (this run's runner moves the due ones on).
                for _ in 0..<100 where !someWait {
                    someWait = try await waiting(store) > 0
                    if !someWait { try await Task.sleep(for: .milliseconds(100)) }
                }
            }
            if someWait {
                // Half the users answer the wait; instances not yet waiting time out instead.
                let evens = (0..<Self.users).filter { $0 % 2 == 0 }
                for chunk in stride(from: 0, to: evens.count, by: 500) {
                    let part = evens[chunk..<min(evens.count, chunk + 500)]
                    let calls = part.map { i in
                        #"{"type":"track","userId":"\#(Self.user(i))","event":"answered","messageId":"answered-\#(i)"}"#
                    }
                    let body = Array(#"{"batch":[\#(calls.joined(separator: ","))]}"#.utf8)
                    let reply = try await engine.send(
                        HTTPRequest(
                            method: .post, url: base + "/v1/batch",
                            headers: [
                                HeaderField("Authorization", "Bearer \(Self.token)"),
                                HeaderField("Content-Type", "application/json"),
                            ], body: body, timeout: .seconds(20)))
                    #expect((200..<300).contains(reply.status), "\(reply.text)")
                }
                answeredSent = true
            }
            if kills < 6 {
                try await Task.sleep(for: .milliseconds(Int.random(in: 200...1500, using: &generator)))
                #expect(daemon.isAlive, "heraldd exited on its own: \(daemon.log.suffix(2000))")
                kill(daemon.pid, SIGKILL)
                daemon.process.waitUntilExit()
                kills += 1
                continue
            }
            try await waitFor("every instance to end; log:\n\(daemon.log.suffix(2000))", timeout: 120) {
                guard daemon.isAlive else { throw ServerUnavailable("heraldd exited: \(daemon.log.suffix(2000))") }
                return false
            } orAsync: {
                try await settled()
            }
            daemon.stop()
            break
        }

        // Every user entered once and ended completed (no exit_when here).
        let counts = try await ledger.journeyStatusCounts(journey: "crashy")
        #expect(counts == ["completed": Self.users], "\(counts)")
        let rows = try await ledger.entries(campaign: "crashy", user: nil, limit: 10 * Self.users)
        let byUser = Dictionary(grouping: rows, by: \.user)
        #expect(byUser.count == Self.users)
        var answeredPaths = 0
        for i in 0..<Self.users {
            let user = Self.user(i)
            let steps = Set((byUser[user] ?? []).map { $0.idempotencyKey.split(separator: "/").last.map(String.init) ?? "" })
            let instance = try #require(try await ledger.journeyInstances(journey: "crashy", user: user).first)
            let path = try await ledger.journeyRecords(journey: "crashy", instance: instance.id).filter { $0.user == user }
            // The path and the rows agree: hello, then thanks after an answer or nudge after a timeout.
            let waited = path.first { $0.step == "await" }?.outcome
            if waited == "event" { answeredPaths += 1 }
            #expect(steps == ["hello", waited == "event" ? "thanks" : "nudge"], "\(user): \(steps) \(path)")
            #expect(path.map(\.step) == ["hello", "pause", "await", waited == "event" ? "thanks" : "nudge"], "\(user)")
            if i % 2 == 1 { #expect(waited == "timeout", "\(user) never answered") }
        }
        #expect(answeredPaths > 0, "some answers reached an instance waiting for them")
        // At most once per key at the receiver, except a send reclaimed after a kill (history shows the reclaim).
        var received: [String: Int] = [:]
        for r in jsonLines(dir.file("record.jsonl")) { received[r["id"] as? String ?? "", default: 0] += 1 }
        #expect(Set(received.keys) == Set(rows.map(\.idempotencyKey)))
        for (key, n) in received where n > 1 {
            let history = try await ledger.history(key: key)
            #expect(
                history.contains { $0.reason == "lease expired: reclaimed" },
                "\(key) arrived \(n) times without a reclaim")
        }
        #expect(kills == 6)
        #expect(answeredSent)
    }
}
