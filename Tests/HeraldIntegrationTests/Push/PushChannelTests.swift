import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger
import HeraldSQLite
import Testing

/// heraldd pushing to the APNs, FCM and Web Push fakes: devices registered through the API, one ledger row per
/// user fanned out to each device, a dead token deactivated, and an open reported with `push_opened` marking the
/// row opened (docs/push.md).
@Suite(
    .serialized, .enabled(if: pushFakeSuitesEnabled, "push suites run in their own process (HERALD_PUSH_FAKE_TESTS=1, scripts/test.sh)"),
    .enabled(if: pushFakesMissing == nil, "python packages for the push fakes are missing"))
struct PushChannelTests {
    static let apiToken = "push-test-token"
    static let live = "aabbccdd00112233"
    static let dead = "dead00112233aabb"

    @Test func heralddPushesToEveryActiveDeviceAndDeactivatesTheDeadOne() async throws {
        let (apns, apnsKey) = try await PushFake.apns()
        defer { apns.stop() }
        let (fcm, _) = try await PushFake.fcm()
        defer { fcm.stop() }
        let keys = try TempDirectory()
        try await PushFake.run("webpush_server.py", ["make-vapid-key", keys.file("vapid.pem")])
        let (web, subscriptions) = try await PushFake.webPush(["w1"], ["--vapid-key", keys.file("vapid.pem"), "--tls", keys.file("tls")])
        defer { web.stop() }
        let subscription = try #require(subscriptions["w1"])

        let dir = try TempDirectory()
        defer { dir.remove() }
        try dir.write("token", Self.apiToken + "\n")
        try dir.write("apns.p8", apnsKey)
        let port = freePort()
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
              first_name: string
            channels:
              outbox: var/outbox
              push:
                rate: 1000/s
                apns:
                  team_id: TEAM123456
                  key_id: KEY1234567
                  key_file: \(dir.file("apns.p8"))
                  topic: com.example.shop
                  url: https://127.0.0.1:\(apns.port)
                  ca_file: \(apns.ca)
                fcm:
                  service_account_file: \(fcm.dir.file("sa.json"))
                  url: http://127.0.0.1:\(fcm.port)
                webpush:
                  subject: mailto:ops@shop.example
                  private_key_file: \(keys.file("vapid.pem"))
                  allow_hosts: [127.0.0.1]
                  ca_file: \(keys.file("tls/ca.pem"))
            """.write(toFile: dir.file("herald.yaml"), atomically: true, encoding: .utf8)
        try """
            id: cart-push
            name: Cart push
            status: active
            audience:
              segment: "true"
            trigger:
              api: true
            send_time:
              strategy: immediate
              within: 1h
            message:
              channel: push
              push:
                title: "{{first_name|Hi}}, your cart is waiting"
                body: Complete your order.
                data: { deep_link: "shop://cart" }
                collapse_id: cart
                ttl: 1h
            """.write(toFile: dir.file("campaigns/cart.yaml"), atomically: true, encoding: .utf8)

        let daemon = try TestServer(
            "heraldd", DaemonCrashTests.heraldd, ["--config", dir.file("herald.yaml")], log: dir.file("heraldd.log"))
        defer { daemon.stop() }
        func alive() throws -> Bool {
            guard daemon.isAlive else { throw ServerUnavailable("heraldd exited: \(daemon.log)") }
            return true
        }
        let base = "http://127.0.0.1:\(port)"
        try await waitFor("heraldd to serve", timeout: 60, alive) {
            (try? await Self.call(base, "GET", "/readyz")).map { $0.status == 200 } ?? false
        }
        for body in [
            #"{"userId":"u1","platform":"ios","token":"\#(Self.live)"}"#,
            #"{"userId":"u1","platform":"ios","token":"\#(Self.dead)"}"#,
            #"{"userId":"u1","platform":"android","token":"fcm-token-u1"}"#,
            #"{"userId":"u2","platform":"web","subscription":{"endpoint":"\#(subscription.endpoint)","keys":{"p256dh":"\#(subscription.p256dh)","auth":"\#(subscription.auth)"}}}"#,
        ] {
            let reply = try await Self.call(base, "POST", "/v1/devices", body)
            #expect(reply.status == 200, "\(reply.text)")
        }
        // A subscription on a host that is not a push service is refused (an outsider chooses that URL).
        let refused = try await Self.call(base, "POST", "/v1/devices",
            #"{"userId":"u3","platform":"web","subscription":{"endpoint":"https://10.0.0.1/x","keys":{"p256dh":"k","auth":"a"}}}"#)
        #expect(refused.status == 400)
        _ = try await Self.call(base, "POST", "/v1/identify", #"{"userId":"u3","traits":{"first_name":"Ana"}}"#)

        let trigger = try await Self.call(base, "POST", "/v1/campaigns/cart-push/trigger", #"{"occurrence":"o1"}"#)
        #expect(trigger.status == 200, "\(trigger.text)")
        try await waitFor("both pushes to be sent", timeout: 60, alive) {
            let sends = try await Self.call(base, "GET", "/v1/sends?campaign=cart-push")
            return sends.text.components(separatedBy: "\"status\":\"sent\"").count - 1 == 2
        }
        // u1's live iOS token and Android token, and u2's browser, each got the push once; the dead token was tried
        // once and answered 410.
        let apnsRecords = apns.records
        #expect(apnsRecords.filter { $0["token"] as? String == Self.live }.map { $0["status"] as? Int } == [200])
        #expect(apnsRecords.filter { $0["token"] as? String == Self.dead }.map { $0["status"] as? Int } == [410])
        #expect(fcm.records.filter { $0["kind"] as? String == "send" }.map { $0["status"] as? Int } == [200])
        #expect(web.records.filter { $0["status"] as? Int == 201 }.count == 1)
        let payload = try #require(apnsRecords.first { $0["token"] as? String == Self.live }?["payload"] as? [String: Any])
        let key = try #require(payload["herald_key"] as? String)
        #expect(payload["deep_link"] as? String == "shop://cart")

        // The app reports the open; the row is marked opened.
        let opened = try await Self.call(base, "POST", "/v1/track",
            #"{"userId":"u1","event":"push_opened","properties":{"herald_key":"\#(key)"}}"#)
        #expect(opened.status == 200)
        daemon.stop()

        let store = try SQLiteStore(path: dir.file("var/herald.db"), schema: AttributeSchema())
        let devices = try await store.devices(userID: "u1")
        #expect(devices.first { $0.registration.token == Self.dead }.map { ($0.active, $0.deactivatedReason) } ?? (true, nil) == (false, "Unregistered"))
        #expect(devices.filter(\.active).count == 2)
        let ledger = try SQLiteLedger(pool: store.pool)
        let rows = try await ledger.entries(campaign: "cart-push", user: nil, limit: 10)
        #expect(rows.first { $0.user == "u3" }?.reason == SkipReason.noContact.description)
        let u1 = try #require(rows.first { $0.user == "u1" })
        #expect(u1.status == .sent && u1.openedAt != nil)
        let history = try await ledger.history(key: u1.idempotencyKey)
        let note = try #require(history.last?.reason)
        #expect(note.contains("Unregistered (deactivated)") && note.contains("HTTP 200"))
        #expect(!note.contains(Self.live))
    }

    /// One request to heraldd's API with the bearer token.
    static func call(_ base: String, _ method: String, _ path: String, _ body: String? = nil) async throws
        -> (status: Int, text: String)
    {
        let reply = try await sharedEngine.send(HTTPRequest(
            method: method == "GET" ? .get : .post, url: base + path,
            headers: [HeaderField("Authorization", "Bearer \(apiToken)"), HeaderField("Content-Type", "application/json")],
            body: Array((body ?? "").utf8), timeout: .seconds(20)))
        return (reply.status, String(decoding: reply.body, as: UTF8.self))
    }
}
