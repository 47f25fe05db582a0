import Foundation
import GRDB
import HeraldCore
import HeraldDelivery
import HeraldLedger
import HeraldSQLite
import Synchronization
import Testing

/// heraldd as a process taking 50,000 `POST /v1/track` calls from concurrent clients while it dispatches a
/// scheduled campaign and plans an event campaign, killed with SIGKILL mid-stream, then restarted once: every
/// acknowledged call is in the store exactly once, every send planned for an acknowledged event goes out, and
/// the calls the kill cut off, retried as a Segment client retries them (same body), are taken exactly once.
@Suite(.serialized) struct DaemonIngestLoadTests {
    /// The webhook signing secret the receiver verifies with.
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    /// The bearer token for `/v1/*`.
    static let token = "load-token-0123456789abcdef"
    /// Users seeded, all in the scheduled campaign's audience: enough sends to keep dispatch busy during the load.
    static let users = 16_000
    /// Track calls sent in all.
    static let calls = 50_000
    /// Every `cartEvery`-th call is a `cart_abandoned` event, each for a user of its own.
    static let cartEvery = 12
    /// Clients sending at once, each on its own connection.
    static let clients = 24
    /// heraldd is killed once this many calls are acknowledged (60 %).
    static let killAfter = 30_000

    /// The user of call `i`: cart events go to distinct users (one occurrence each), page views anywhere.
    static func user(of i: Int) -> String {
        String(format: "u%05d", i % cartEvery == 0 ? i / cartEvery : i % users)
    }

    /// The event name of call `i`.
    static func event(of i: Int) -> String { i % cartEvery == 0 ? "cart_abandoned" : "page_view" }

    /// The `messageId` of call `i`, unique per call.
    static func messageID(of i: Int) -> String { String(format: "load-%06d", i) }

    /// The body of call `i`; `epochMillis` is the first call's `timestamp` (each call 1 ms later), set by the
    /// client as Segment's libraries do, so that a retry is the same call.
    static func body(of i: Int, epochMillis: Int64) -> [UInt8] {
        let ms = epochMillis + Int64(i)
        let stamp =
            TimestampParser.formatUTC(seconds: ms / 1000).dropLast() + String(format: ".%03dZ", ms % 1000)
        return Array(
            (#"{"userId":"\#(user(of: i))","event":"\#(event(of: i))","messageId":"\#(messageID(of: i))","#
                + #""timestamp":"\#(stamp)","properties":{"n":\#(i)}}"#).utf8)
    }

    /// `POST /v1/track` with call `i`.
    static func track(_ i: Int, base: String, epochMillis: Int64) -> HTTPRequest {
        HTTPRequest(
            method: .post, url: base + "/v1/track",
            headers: [
                HeaderField("Authorization", "Bearer \(token)"),
                HeaderField("Content-Type", "application/json"),
            ],
            body: body(of: i, epochMillis: epochMillis), timeout: .seconds(30))
    }

    /// A project folder: an event campaign (`cart_abandoned`, 1 s delay, immediate) and a scheduled one to
    /// every user, both sending signed webhooks to `url`; the store seeded with `users` US users.
    static func project(_ dir: TempDirectory, url: String, port: Int) async throws -> SQLiteStore {
        try dir.write("secret", secret)
        try dir.write("token", token + "\n")
        try FileManager.default.createDirectory(
            atPath: dir.file("campaigns"), withIntermediateDirectories: true)
        try dir.write(
            "herald.yaml",
            """
            store:
              sqlite: var/herald.db
            campaigns: campaigns
            api:
              listen: 127.0.0.1:\(port)
              token_file: \(dir.file("token"))
              public_url: http://127.0.0.1:\(port)
            attributes:
              country: string
            channels:
              outbox: var/outbox
              webhook:
                endpoints:
                  hook: { url: "\(url)", secret_file: \(dir.file("secret")), rate: 100000/s }
            """)
        try dir.write(
            "campaigns/cart.yaml",
            """
            id: cart
            name: Cart abandoned
            status: active
            audience:
              segment: country == "US"
            trigger:
              event: cart_abandoned
              delay: 1s
            send_time:
              strategy: immediate
              within: 1d
            message:
              channel: webhook
              webhook:
                endpoint: hook
                body: { "user": "{{user_id}}", "title": "Your cart" }
            """)
        let start = TimestampParser.formatUTC(seconds: Int64(Date().timeIntervalSince1970) - 60)
        try dir.write(
            "campaigns/blast.yaml",
            """
            id: blast
            name: Keeps the dispatcher busy
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
                body: { "user": "{{user_id}}", "title": "News" }
            """)
        try FileManager.default.createDirectory(atPath: dir.file("var"), withIntermediateDirectories: true)
        var schema = AttributeSchema()
        schema.types["country"] = .string
        let store = try SQLiteStore(path: dir.file("var/herald.db"), schema: schema)
        _ = try await store.upsertUsers(
            (0..<users).map { i in
                var u = UserUpsert(id: String(format: "u%05d", i))
                u.attributes = ["country": .string("US")]
                return u
            })
        return store
    }

    /// Waits until heraldd answers `GET /readyz` with 200, failing early when it exits.
    static func waitReady(_ daemon: TestServer, base: String, engine: CurlEngine) async throws {
        try await waitFor("heraldd never became ready; log:\n\(daemon.log.suffix(2000))", timeout: 30) {
            guard daemon.isAlive else {
                throw ServerUnavailable("heraldd exited: \(daemon.log.prefix(1500)) … \(daemon.log.suffix(800))")
            }
            return false
        } orAsync: {
            let reply = try? await engine.send(HTTPRequest(url: base + "/readyz", timeout: .seconds(2)))
            return reply?.status == 200
        }
    }

    /// The issue's scenario: load, kill -9 at 60 % acknowledged, check the store, retry, restart, check the sends.
    @Test func killNineUnderTrackLoadKeepsEveryAcknowledgedEvent() async throws {
        let began = Date()
        let dir = try TempDirectory()
        defer { dir.remove() }
        let (receiver, hookPort) = try await startWebhookReceiver(dir, secrets: [Self.secret])
        defer { receiver.stop() }
        let port = freePort()
        let base = "http://127.0.0.1:\(port)"
        let store = try await Self.project(dir, url: "http://127.0.0.1:\(hookPort)/hooks/load", port: port)
        let ledger = try SQLiteLedger(pool: store.pool)
        let engine = CurlEngine(maxConnections: 64)
        defer { engine.shutdown() }

        // Run 1: the load, and SIGKILL once `killAfter` calls are acknowledged.
        let first = try TestServer(
            "heraldd", DaemonCrashTests.heraldd, ["--config", dir.file("herald.yaml")],
            log: dir.file("heraldd-1.log"))
        try await Self.waitReady(first, base: base, engine: engine)
        let progress = IngestProgress(calls: Self.calls)
        let loadStarted = Date()
        let epochMillis = Int64(loadStarted.timeIntervalSince1970 * 1000) - 60_000
        let pid = first.pid
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<Self.clients {
                group.addTask {
                    while let i = progress.claim() {
                        do {
                            let reply = try await engine.send(
                                Self.track(i, base: base, epochMillis: epochMillis))
                            progress.answered(i, status: reply.status, detail: reply.text)
                        } catch {
                            progress.failed(i, "\(error)")
                        }
                    }
                }
            }
            // The killer: SIGKILL while every client still has a call in flight. Marked first, so that an
            // answer lost to the kill is never counted as a failure of the running daemon.
            group.addTask {
                while progress.acknowledgedCount < Self.killAfter && !progress.isFinished {
                    try? await Task.sleep(for: .milliseconds(2))
                }
                progress.markKilled()
                kill(pid, SIGKILL)
            }
        }
        first.process.waitUntilExit()
        let loadSeconds = Date().timeIntervalSince(loadStarted)
        let blastSentAtKill = try await store.pool.read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM ledger WHERE campaign = 'blast' AND status = 'sent'") ?? 0
        }
        let outcome = progress.snapshot()
        #expect(outcome.killed, "the clients finished before the kill")
        #expect(
            outcome.failuresBeforeKill.isEmpty,
            "calls failed before the kill: \(outcome.failuresBeforeKill.prefix(5))")
        #expect(outcome.acknowledged.count >= Self.killAfter)
        #expect(outcome.sent < Self.calls, "the kill came after the last call")

        // Every acknowledged call is stored, exactly once; nothing is stored that was never sent.
        let (storedCounts, markers) = try await store.pool.read { db -> ([String: Int], Set<String>) in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(
                db,
                sql:
                    "SELECT message_id, count(*) FROM events WHERE message_id LIKE 'load-%' GROUP BY message_id"
            ) {
                counts[row[0]] = row[1]
            }
            let ids = try String.fetchSet(
                db, sql: "SELECT message_id FROM event_message_ids WHERE message_id LIKE 'load-%'")
            return (counts, ids)
        }
        let acknowledgedIDs = Set(outcome.acknowledged.map(Self.messageID(of:)))
        let missing = acknowledgedIDs.subtracting(storedCounts.keys)
        #expect(
            missing.isEmpty, "\(missing.count) acknowledged events lost, e.g. \(missing.sorted().prefix(5))")
        let doubled = storedCounts.filter { $0.value > 1 }
        #expect(doubled.isEmpty, "events stored twice: \(doubled.keys.sorted().prefix(5))")
        #expect(markers == Set(storedCounts.keys), "event_message_ids and events disagree")
        let neverSent = Set(storedCounts.keys).subtracting((0..<outcome.sent).map(Self.messageID(of:)))
        #expect(neverSent.isEmpty, "stored but never sent: \(neverSent.sorted().prefix(5))")

        // Every acknowledged cart event was planned before its 200: one `cart` row for its user.
        let cartRows = try await ledger.entries(campaign: "cart", user: nil, limit: Self.calls)
        var cartByUser: [String: [String]] = [:]
        for row in cartRows { cartByUser[row.user, default: []].append(row.idempotencyKey) }
        let acknowledgedCartUsers = outcome.acknowledged.filter { $0 % Self.cartEvery == 0 }.map(
            Self.user(of:))
        let unplanned = acknowledgedCartUsers.filter { cartByUser[$0] == nil }
        #expect(
            unplanned.isEmpty,
            "\(unplanned.count) acknowledged cart events never planned, e.g. \(unplanned.prefix(5))")
        #expect(cartByUser.values.allSatisfy { $0.count == 1 }, "a cart event planned twice")
        let storedCartUsers = Set(
            storedCounts.keys.compactMap { Int($0.dropFirst("load-".count)) }.filter {
                $0 % Self.cartEvery == 0
            }
            .map(Self.user(of:)))
        // Stored but unacknowledged cart events whose planning the kill cut off: the restart does not plan them;
        // only the client's retry below does.
        let orphaned = storedCartUsers.filter { cartByUser[$0] == nil }

        // Run 2: back up once; every planned row (the blast and the acknowledged carts) reaches `sent`.
        let second = try TestServer(
            "heraldd", DaemonCrashTests.heraldd, ["--config", dir.file("herald.yaml")],
            log: dir.file("heraldd-2.log"))
        defer { second.stop() }
        try await Self.waitReady(second, base: base, engine: engine)
        // The client retries what the kill cut off: each is acknowledged, none is stored twice, and a cart event
        // the kill left stored but unplanned is planned now.
        let acknowledgedSet = Set(outcome.acknowledged)
        let cutOff = (0..<outcome.sent).filter { !acknowledgedSet.contains($0) }
        for i in cutOff {
            let reply = try await engine.send(Self.track(i, base: base, epochMillis: epochMillis))
            #expect(reply.status == 200, "retry of call \(i): \(reply.status) \(reply.text)")
        }
        let afterRetry = try await store.pool.read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM events WHERE message_id LIKE 'load-%' AND message_id < ?",
                arguments: [Self.messageID(of: outcome.sent)]) ?? 0
        }
        #expect(afterRetry == outcome.sent, "after the retries every call is stored once")
        let cartCalls = (0..<outcome.sent).filter { $0 % Self.cartEvery == 0 }.count
        let expectedRows = Self.users + cartCalls
        /// Ledger rows `sent` so far.
        func sentRows() async throws -> Int {
            try await store.pool.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM ledger WHERE status = 'sent'") ?? 0
            }
        }
        try await waitFor("every planned send to go out; log:\n\(second.log.suffix(2000))", timeout: 90) {
            guard second.isAlive else {
                throw ServerUnavailable("heraldd exited: \(second.log.prefix(1500)) … \(second.log.suffix(800))")
            }
            return false
        } orAsync: {
            try await sentRows() >= expectedRows
        }
        second.stop()
        let rows = try await ledger.entries(campaign: nil, user: nil, limit: expectedRows + 1)
        #expect(rows.count == expectedRows)
        #expect(rows.allSatisfy { $0.status == .sent })
        let cartUsers = rows.filter { $0.campaign == "cart" }.map(\.user)
        #expect(
            cartUsers.count == cartCalls && Set(cartUsers).count == cartCalls, "one cart send per cart event")
        let received = jsonLines(dir.file("record.jsonl"))
        #expect(
            received.allSatisfy { ($0["verified"] as? Int) == 1 }, "every delivery carries a valid signature")
        let receivedKeys = Set(received.compactMap { $0["id"] as? String })
        let keys = Set(rows.map(\.idempotencyKey))
        #expect(keys.subtracting(receivedKeys).isEmpty, "ledger keys the receiver never got")
        #expect(receivedKeys.subtracting(keys).isEmpty, "the receiver got keys the ledger does not have")
        // A key may arrive twice only when the kill left it `sending` and the restart reclaimed it.
        var deliveries: [String: Int] = [:]
        for r in received { deliveries[r["id"] as? String ?? "", default: 0] += 1 }
        let repeated = deliveries.filter { $0.value > 1 }
        for (key, n) in repeated {
            let reclaims = try await ledger.history(key: key).filter {
                $0.reason == "lease expired: reclaimed"
            }.count
            #expect(reclaims >= n - 1, "\(key) arrived \(n) times with \(reclaims) reclaims")
        }
        let elapsed = Date().timeIntervalSince(began)
        print(
            """
            ingest under load: \(outcome.acknowledged.count) of \(outcome.sent) calls acknowledged in \
            \(String(format: "%.1f", loadSeconds)) s (\(Int(Double(outcome.acknowledged.count) / loadSeconds))/s, \
            \(Self.clients) clients) before kill -9, with \(blastSentAtKill) of \(Self.users) scheduled sends out; \(outcome.failuresAfterKill) cut off; \
            \(storedCounts.count - outcome.acknowledged.count) stored without a reply; \(cartRows.count) cart sends \
            planned, \(orphaned.count) stored cart events left unplanned by the kill; \(cutOff.count) calls retried; \
            \(rows.count) sends, \(received.count) deliveries (\(repeated.count) reclaimed keys repeated); \
            \(String(format: "%.1f", elapsed)) s in all
            """)
    }
}

/// The clients' shared state: which call goes next, and how each one was answered.
final class IngestProgress: Sendable {
    /// What the clients saw, once they are done.
    struct Outcome: Sendable {
        /// Calls answered 200.
        var acknowledged: [Int]
        /// Calls handed to a client.
        var sent: Int
        /// Whether the daemon was killed.
        var killed: Bool
        /// Non-200 answers and errors before the kill.
        var failuresBeforeKill: [String]
        /// Calls that got no 200 once the daemon was killed.
        var failuresAfterKill: Int
    }

    /// The mutable part, behind the mutex.
    private struct State {
        var next = 0
        var acknowledged: [Int] = []
        var killed = false
        var failuresBeforeKill: [String] = []
        var failuresAfterKill = 0
    }

    /// Calls to send in all.
    private let calls: Int
    /// Everything the clients share.
    private let state = Mutex(State())

    /// Progress over `calls` calls, numbered from 0.
    init(calls: Int) { self.calls = calls }

    /// The next call to send, or nil once all are handed out or the daemon is dead.
    func claim() -> Int? {
        state.withLock { s in
            guard !s.killed, s.next < calls else { return nil }
            defer { s.next += 1 }
            return s.next
        }
    }

    /// Records the daemon's answer to call `i`.
    func answered(_ i: Int, status: Int, detail: String) {
        if status == 200 {
            state.withLock { $0.acknowledged.append(i) }
        } else {
            failed(i, "status \(status): \(detail.prefix(200))")
        }
    }

    /// Records that call `i` got no answer, or a failing one.
    func failed(_ i: Int, _ why: String) {
        state.withLock { s in
            if s.killed { s.failuresAfterKill += 1 } else { s.failuresBeforeKill.append("call \(i): \(why)") }
        }
    }

    /// Calls acknowledged so far.
    var acknowledgedCount: Int { state.withLock { $0.acknowledged.count } }

    /// True once every call is handed out (the kill came too late).
    var isFinished: Bool { state.withLock { $0.next >= calls } }

    /// Notes that the daemon is dead: no more calls are handed out.
    func markKilled() { state.withLock { $0.killed = true } }

    /// The outcome so far.
    func snapshot() -> Outcome {
        state.withLock { s in
            Outcome(
                acknowledged: s.acknowledged, sent: s.next, killed: s.killed,
                failuresBeforeKill: s.failuresBeforeKill, failuresAfterKill: s.failuresAfterKill)
        }
    }
}
