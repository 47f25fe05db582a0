import Foundation
import HeraldCore
import HeraldDelivery
import HeraldPostgres
import class HeraldPostgres.PostgresDatabase
import HeraldLedger
import PostgresNIO
import Testing

/// Several heraldd processes on one PostgreSQL database (docs/architecture.md): shard leases, claims with
/// `FOR UPDATE SKIP LOCKED`, failover after kill -9, caps exact across daemons. Needs a real PostgreSQL:
/// `scripts/test.sh` starts one and sets `HERALD_TEST_POSTGRES_URL` (the store suite fails in CI without it).
@Suite(.serialized, .enabled(if: ScaleOut.adminURL != nil, "HERALD_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)"))
struct ScaleOutTests {
    @Test func threeDaemonsOneKilledSendEveryKeyOnceAndReownEveryShard() async throws {
        let total = 100_000
        let cluster = try await ScaleOut(users: total, campaign: ScaleOut.scheduleCampaign)
        defer { cluster.tearDown() }
        let daemons = try (1...3).map { try cluster.start($0) }
        defer { daemons.forEach { $0.stop() } }

        // Midway: kill -9 the daemon that holds shard 0 (the planner) once a third of the sends are out.
        try await cluster.waitFor("a third of the sends", daemons, timeout: 240) { try await cluster.sent() >= total / 3 }
        let owners = try await cluster.shardOwners()
        #expect(Set(owners.values).count == 3, "three daemons share the shards before the kill: \(Set(owners.values))")
        let planner = try #require(owners[0])
        let victim = try #require(daemons.firstIndex { planner.contains("-\($0.pid)-") })
        let lease = ScaleOut.shardLease
        let killedAt = Date()
        kill(daemons[victim].pid, SIGKILL)
        daemons[victim].process.waitUntilExit()
        let sentAtKill = try await cluster.sent()
        let survivors = daemons.indices.filter { $0 != victim }.map { daemons[$0] }

        // Every shard owned again, by the survivors only, within the lease (plus the keeper's one-second round).
        var reowned: Double?
        try await cluster.waitFor("every shard to be owned by a survivor", survivors, timeout: Double(lease) * 3) {
            let now = try await cluster.shardOwners()
            guard now.count == Shards.count, !now.values.contains(planner) else { return false }
            reowned = Date().timeIntervalSince(killedAt)
            return true
        }
        let took = try #require(reowned)
        // The victim's lease ends at most `lease` after the kill (it renewed within the last second); a survivor
        // takes its shards at its next one-second round. 4 s of slack for a loaded CI machine.
        #expect(took <= Double(lease + 4), "shards re-owned \(took) s after the kill (lease \(lease) s)")

        try await cluster.waitFor("every send", survivors, timeout: 300) { try await cluster.sent() == total }
        survivors.forEach { $0.stop() }
        let rows = try await cluster.ledgerRows()
        #expect(rows.count == total)
        #expect(rows.values.allSatisfy { $0 == "sent" })
        let received = jsonLines(cluster.dir.file("record.jsonl"))
        #expect(received.allSatisfy { ($0["verified"] as? Int) == 1 }, "every delivery carries a valid signature")
        var counts: [String: Int] = [:]
        for r in received { counts[r["id"] as? String ?? "", default: 0] += 1 }
        #expect(Set(counts.keys) == Set(rows.keys), "every key reached the receiver, and nothing else did")
        // A key may arrive twice only inside the documented window: the provider accepted it, the daemon died
        // before the ledger write, and the row was reclaimed — its history says so.
        let repeated = counts.filter { $0.value > 1 }
        let reclaims = try await cluster.reclaims()
        for (key, n) in repeated {
            #expect((reclaims[key] ?? 0) >= n - 1, "\(key) arrived \(n) times with \(reclaims[key] ?? 0) reclaims")
        }
        print(
            "3 heraldd on PostgreSQL, \(total) sends, kill -9 of the planner at \(sentAtKill) sent: shards re-owned in "
                + String(format: "%.1f", took) + " s (lease \(lease) s); \(received.count) deliveries, "
                + "\(repeated.count) keys repeated in the documented window")
    }

    @Test func perUserCapsHoldAcrossDaemons() async throws {
        // Two api campaigns, each for every user, triggered at the same moment through two different daemons;
        // the policy allows one message per user per day. Whichever daemon plans or dispatches, each user gets one.
        let total = 2_000
        let cluster = try await ScaleOut(users: total, campaign: ScaleOut.apiCampaign("promo-a"), ScaleOut.apiCampaign("promo-b"))
        defer { cluster.tearDown() }
        let daemons = try (1...3).map { try cluster.start($0) }
        defer { daemons.forEach { $0.stop() } }
        try await cluster.waitFor("three daemons to share the shards", daemons, timeout: 60) {
            Set(try await cluster.shardOwners().values).count == 3
        }
        async let a = cluster.trigger("promo-a", through: 1)
        async let b = cluster.trigger("promo-b", through: 2)
        let (statusA, statusB) = try await (a, b)
        #expect(statusA == 200 && statusB == 200, "trigger answers: \(statusA), \(statusB)")
        try await cluster.waitFor("every row decided", daemons, timeout: 120) {
            let rows = try await cluster.ledgerRows()
            return rows.count == 2 * total && !rows.values.contains { ["scheduled", "sending", "failed"].contains($0) }
        }
        daemons.forEach { $0.stop() }
        var perUser: [String: Int] = [:]
        for r in jsonLines(cluster.dir.file("record.jsonl")) {
            let key = r["id"] as? String ?? ""
            perUser[key.split(separator: "/").dropFirst(2).first.map(String.init) ?? key, default: 0] += 1
        }
        #expect(perUser.count == total, "every user got a message")
        let over = perUser.filter { $0.value > 1 }
        #expect(over.isEmpty, "\(over.count) users got more than the cap allows, e.g. \(over.prefix(3))")
    }
}

/// One test's world: a fresh database, a project folder with three configs, a verifying webhook receiver.
final class ScaleOut: @unchecked Sendable {
    static var adminURL: String? { ProcessInfo.processInfo.environment["HERALD_TEST_POSTGRES_URL"] }
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    /// heraldd's shard lease with PostgreSQL, seconds.
    static let shardLease: Int64 = 15

    let dir: TempDirectory
    let url: String
    let database: PostgresDatabase
    let admin: PostgresDatabase
    let name: String
    let receiver: TestServer
    let ports: [Int]

    static func scheduleCampaign(_ start: String) -> String {
        """
        id: scale
        name: Scale-out
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
        """
    }

    static func apiCampaign(_ id: String) -> (String) -> String {
        { _ in
            """
            id: \(id)
            name: \(id)
            status: active
            audience:
              segment: country == "US"
            trigger:
              api: true
            send_time:
              strategy: immediate
              within: 1d
            message:
              channel: webhook
              webhook:
                endpoint: hook
                body: { "user": "{{user_id}}" }
            """
        }
    }

    init(users: Int, campaign: (String) -> String...) async throws {
        let admin = try #require(Self.adminURL)
        dir = try TempDirectory()
        name = "scale_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        self.admin = try PostgresDatabase(url: admin)
        try await self.admin.client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        var c = try #require(URLComponents(string: admin))
        c.path = "/" + name
        url = try #require(c.string)
        database = try PostgresDatabase(url: url)
        var schema = AttributeSchema()
        schema.types["country"] = .string
        let (store, _) = try await PostgresBackend.open(database, schema: schema)
        for chunk in stride(from: 0, to: users, by: 5_000) {
            _ = try await store.upsertUsers(
                (chunk..<min(users, chunk + 5_000)).map { i in
                    var u = UserUpsert(id: String(format: "u%06d", i))
                    u.attributes = ["country": .string("US")]
                    return u
                })
        }
        (receiver, _) = try await startWebhookReceiver(dir, secrets: [Self.secret])
        let hook = "http://127.0.0.1:\(try await readyPort(dir.file("ready"), server: receiver))/hooks/scale"
        try dir.write("secret", Self.secret)
        try dir.write("api-token", "scale-out-token")
        try dir.write("signing.key", String(repeating: "k", count: 48))
        try FileManager.default.createDirectory(atPath: dir.file("campaigns"), withIntermediateDirectories: true)
        let start = TimestampParser.formatUTC(seconds: Int64(Date().timeIntervalSince1970) - 60)
        for (i, text) in campaign.enumerated() {
            try text(start).write(toFile: dir.file("campaigns/c\(i).yaml"), atomically: true, encoding: .utf8)
        }
        ports = (1...3).map { _ in freePort() }
        for (i, port) in ports.enumerated() {
            try """
                store:
                  postgres: \(url)
                campaigns: campaigns
                api:
                  listen: 127.0.0.1:\(port)
                  public_url: http://127.0.0.1:8025
                  token_file: \(dir.file("api-token"))
                  signing_key_file: \(dir.file("signing.key"))
                attributes:
                  country: string
                policy:
                  caps:
                    - { channel: any, max: 1, per: 1d }
                  adaptive_caps: false
                channels:
                  outbox: var/outbox
                  webhook:
                    endpoints:
                      hook: { url: "\(hook)", secret_file: \(dir.file("secret")), rate: 100000/s }
                """.write(toFile: dir.file("herald-\(i + 1).yaml"), atomically: true, encoding: .utf8)
        }
    }

    /// Starts daemon `n` (1-based).
    func start(_ n: Int) throws -> TestServer {
        try TestServer(
            "heraldd-\(n)", DaemonCrashTests.heraldd, ["--config", dir.file("herald-\(n).yaml")],
            log: dir.file("heraldd-\(n).log"))
    }

    func tearDown() {
        receiver.stop()
        database.close()
        let admin = self.admin
        let name = self.name
        let done = DispatchSemaphore(value: 0)
        Task {
            _ = try? await admin.client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"))
            admin.close()
            done.signal()
        }
        done.wait()
        dir.remove()
    }

    /// Waits until `done`, failing early when one of `daemons` exits.
    func waitFor(
        _ what: String, _ daemons: [TestServer], timeout: Double, _ done: () async throws -> Bool
    ) async throws {
        try await HeraldIntegrationTests.waitFor("\(what); logs:\n\(logs(daemons))", timeout: timeout) {
            for d in daemons where !d.isAlive { throw ServerUnavailable("\(d.name) exited: \(d.log.suffix(3000))") }
            return false
        } orAsync: {
            try await done()
        }
    }

    func logs(_ daemons: [TestServer]) -> String {
        daemons.map { "== \($0.name)\n\($0.log.suffix(1500))" }.joined(separator: "\n")
    }

    /// Rows sent so far.
    func sent() async throws -> Int {
        let rows = try await database.client.query("SELECT count(*) FROM ledger WHERE status = 'sent'")
        for try await n in rows.decode(Int.self) { return n }
        return 0
    }

    /// Every ledger row's status by key.
    func ledgerRows() async throws -> [String: String] {
        var out: [String: String] = [:]
        let rows = try await database.client.query("SELECT idempotency_key, status FROM ledger")
        for try await (key, status) in rows.decode((String, String).self) { out[key] = status }
        return out
    }

    /// Reclaims of a lease-expired row, by key.
    func reclaims() async throws -> [String: Int] {
        var out: [String: Int] = [:]
        let rows = try await database.client.query(
            """
            SELECT l.idempotency_key, count(*) FROM ledger_history h JOIN ledger l ON l.id = h.ledger_id
            WHERE h.reason = 'lease expired: reclaimed' GROUP BY l.idempotency_key
            """)
        for try await (key, n) in rows.decode((String, Int).self) { out[key] = n }
        return out
    }

    /// The live owner of each shard (leases not yet expired).
    func shardOwners() async throws -> [Int: String] {
        let now = Int64(Date().timeIntervalSince1970)
        var out: [Int: String] = [:]
        let rows = try await database.client.query(
            "SELECT shard::int8, owner FROM shard_leases WHERE owner IS NOT NULL AND lease_until >= \(now)")
        for try await (shard, owner) in rows.decode((Int, String).self) { out[shard] = owner }
        return out
    }

    /// `POST /v1/campaigns/{id}/trigger` through daemon `n`; the HTTP status.
    func trigger(_ campaign: String, through n: Int) async throws -> Int {
        let port = ports[n - 1]
        try await HeraldIntegrationTests.waitFor("heraldd-\(n) to listen on \(port)", timeout: 60) { isListening(port) }
        let response = try await sharedEngine.send(
            HTTPRequest(
                method: .post, url: "http://127.0.0.1:\(port)/v1/campaigns/\(campaign)/trigger",
                headers: [
                    HeaderField("Authorization", "Bearer scale-out-token"),
                    HeaderField("Content-Type", "application/json"),
                ], body: Array("{}".utf8), timeout: .seconds(60)))
        return response.status
    }
}
