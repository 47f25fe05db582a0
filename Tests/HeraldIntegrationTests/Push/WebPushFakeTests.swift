import Foundation
import HeraldDelivery
import Testing

/// Web Push to Tests/Fixtures/push/webpush_server.py, which checks VAPID and decrypts every push it accepts.
@Suite(
    .serialized, .enabled(if: pushFakeSuitesEnabled, "push suites run in their own process (HERALD_PUSH_FAKE_TESTS=1, scripts/test.sh)"),
    .enabled(if: pushFakesMissing == nil, "python packages for the push fakes are missing"))
struct WebPushFakeTests {
    static let cart = PushContent(title: "Ana, your cart is waiting", body: "Complete your order.", data: ["deep_link": "/cart"],
                                  badge: 1, collapseID: "spring sale!", ttl: 3600, priority: .normal)

    func sender(pem: String, tls: TLSOptions = TLSOptions(), clock: FakeClock = FakeClock()) throws -> WebPushSender {
        WebPushSender(vapid: try VAPIDSigner(subject: "mailto:ops@shop.example", pem: pem, field: "webpush.private_key_file"),
                      settings: WebPushSettings(tls: tls), engine: sharedEngine, now: clock.now)
    }

    func vapidKey(_ dir: TempDirectory, _ name: String = "vapid.pem") async throws -> String {
        try await PushFake.run("webpush_server.py", ["make-vapid-key", dir.file(name)])
        return try String(contentsOfFile: dir.file(name), encoding: .utf8)
    }

    func failure(_ sender: WebPushSender, _ subscription: WebPushSubscription?, _ content: PushContent = cart) async -> PushError? {
        guard let subscription else {
            Issue.record("no such subscription")
            return nil
        }
        do {
            _ = try await sender.send(content, to: subscription, key: "k")
            Issue.record("the push to \(subscription.endpoint) was accepted")
            return nil
        } catch { return error }
    }

    @Test func pushIsEncryptedSignedAndDecryptedByTheService() async throws {
        let keys = try TempDirectory()
        defer { keys.remove() }
        let pem = try await vapidKey(keys)
        let (fake, subscriptions) = try await PushFake.webPush(["sub1"], ["--vapid-key", keys.file("vapid.pem")])
        defer { fake.stop() }
        let clock = FakeClock()
        let receipt = try await sender(pem: pem, clock: clock).send(Self.cart, to: try #require(subscriptions["sub1"]), key: "c1:u1:1")
        #expect(receipt.status == 201)
        #expect(receipt.providerMessageID?.hasPrefix("http://127.0.0.1:\(fake.port)/message/") == true)
        let record = try #require(fake.records.first)
        #expect(record["status"] as? Int == 201)
        let json = try #require(record["json"] as? [String: Any])
        #expect(json["title"] as? String == "Ana, your cart is waiting")
        #expect((json["data"] as? [String: String]) == ["deep_link": "/cart", "herald_key": "c1:u1:1"])
        let vapid = try #require(record["vapid"] as? [String: Any])
        #expect(vapid["aud"] as? String == "http://127.0.0.1:\(fake.port)")
        #expect(vapid["sub"] as? String == "mailto:ops@shop.example")
        let exp = try #require(vapid["exp"] as? Int)
        #expect(Double(exp) > clock.now() && Double(exp) <= clock.now() + 24 * 3600)
        #expect(record["ttl"] as? Int == 3600)
        #expect(record["urgency"] as? String == "normal")
        #expect(record["topic"] as? String == PushPayload.webPushTopic("spring sale!"))
        #expect(record["content_encoding"] as? String == "aes128gcm")
    }

    @Test func everyErrorCueIsClassified() async throws {
        let keys = try TempDirectory()
        defer { keys.remove() }
        let ids = ["gone1", "notfound1", "toolarge1", "busy1", "down1", "once-busy1"]
        let (fake, subscriptions) = try await PushFake.webPush(ids)
        defer { fake.stop() }
        let push = try sender(pem: try await vapidKey(keys))
        #expect(await failure(push, subscriptions["gone1"])?.verdict == .deadToken(since: nil))
        #expect(await failure(push, subscriptions["notfound1"])?.verdict == .deadToken(since: nil))
        let large = await failure(push, subscriptions["toolarge1"])
        guard case .payloadTooLarge = large?.verdict else { Issue.record("toolarge: \(String(describing: large))"); return }
        #expect(large?.deliveryError.code == .payloadTooLarge)
        for id in ["busy1", "down1"] {
            guard case .retry(let after?) = await failure(push, subscriptions[id])?.verdict else { Issue.record("\(id)"); continue }
            #expect(after >= 1 && after <= 2)
        }
        #expect(await failure(push, subscriptions["once-busy1"])?.deliveryError.isRetryable == true)
        #expect(try await push.send(Self.cart, to: try #require(subscriptions["once-busy1"]), key: "k").status == 201)
        try fake.script([["fail": 1, "status": 503, "retry_after": 3]])
        guard case .retry(let scripted?) = await failure(push, subscriptions["once-busy1"])?.verdict else { Issue.record("scripted"); return }
        #expect(scripted >= 3)
        // A subscription the service never made is gone too.
        var unknown = try #require(subscriptions["gone1"])
        unknown.endpoint = "http://127.0.0.1:\(fake.port)/push/never-made"
        #expect(await failure(push, unknown)?.isDeadToken == true)
    }

    @Test func the3993ByteLimitIsExact() async throws {
        let keys = try TempDirectory()
        defer { keys.remove() }
        let (fake, subscriptions) = try await PushFake.webPush(["sub1"])
        defer { fake.stop() }
        let push = try sender(pem: try await vapidKey(keys))
        let base = PushPayload.size(of: PushContent(data: ["x": ""]), key: "k", for: .webPush).bytes
        let largest = PushContent(data: ["x": String(repeating: "a", count: 3993 - base)])
        #expect(try await push.send(largest, to: try #require(subscriptions["sub1"]), key: "k").status == 201)
        #expect(fake.records.last?["body_bytes"] as? Int == 4096)
        let over = PushContent(data: ["x": String(repeating: "a", count: 3994 - base)])
        #expect(await failure(push, subscriptions["sub1"], over)?.verdict == .payloadTooLarge(bytes: 3994, limit: 3993))
        #expect(fake.records.count == 1, "refused before sending")
    }

    @Test func anotherApplicationServerKeyIsRefusedButNotDead() async throws {
        let keys = try TempDirectory()
        defer { keys.remove() }
        _ = try await vapidKey(keys, "bound.pem")
        let (fake, subscriptions) = try await PushFake.webPush(["sub1"], ["--vapid-key", keys.file("bound.pem")])
        defer { fake.stop() }
        let error = await failure(try sender(pem: try await vapidKey(keys, "other.pem")), subscriptions["sub1"])
        #expect(error?.status == 403)
        #expect(error?.verdict == .permanent)
    }

    @Test func fanOutReportsEachDeviceInOrder() async throws {
        let keys = try TempDirectory()
        defer { keys.remove() }
        let (fake, subscriptions) = try await PushFake.webPush(["sub1", "gone1"])
        defer { fake.stop() }
        let push = PushSender(webPush: try sender(pem: try await vapidKey(keys)))
        #expect(push.isConfigured(.webPush) && !push.isConfigured(.apns))
        let devices: [PushDevice] = [.webPush(try #require(subscriptions["gone1"])), .fcm(token: "t1"),
                                     .webPush(try #require(subscriptions["sub1"]))]
        let attempts = await push.send(Self.cart, to: devices, key: "c1:u1:1")
        #expect(attempts.map(\.device) == devices)
        guard attempts.count == 3, case .failure(let gone) = attempts[0].result, case .failure(let unconfigured) = attempts[1].result,
              case .success(let receipt) = attempts[2].result
        else { Issue.record("\(attempts)"); return }
        #expect(gone.isDeadToken)
        #expect(unconfigured.reason == "provider_not_configured")
        #expect(receipt.status == 201)
        #expect(fake.records.count == 2)
    }

    @Test func pushOverTLS() async throws {
        let keys = try TempDirectory()
        defer { keys.remove() }
        let (fake, subscriptions) = try await PushFake.webPush(["sub1"], ["--tls", keys.file("tls")])
        defer { fake.stop() }
        let subscription = try #require(subscriptions["sub1"])
        #expect(subscription.endpoint.hasPrefix("https://"))
        let push = try sender(pem: try await vapidKey(keys), tls: TLSOptions(caFile: keys.file("tls/ca.pem")))
        #expect(try await push.send(Self.cart, to: subscription, key: "k").status == 201)
        #expect((fake.records.first?["vapid"] as? [String: Any])?["aud"] as? String == "https://127.0.0.1:\(fake.port)")
    }
}
