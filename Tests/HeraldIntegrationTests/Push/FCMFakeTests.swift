import Foundation
import HeraldDelivery
import Testing

/// FCM HTTP v1 sends and Google's OAuth token endpoint, as Tests/Fixtures/push/fcm_server.py runs them.
@Suite(
    .serialized, .enabled(if: pushFakeSuitesEnabled, "push suites run in their own process (HERALD_PUSH_FAKE_TESTS=1, scripts/test.sh)"),
    .enabled(if: pushFakesMissing == nil, "python packages for the push fakes are missing"))
struct FCMFakeTests {
    static let cart = PushContent(title: "Ana, your cart is waiting", body: "Complete your order.", data: ["deep_link": "shop://cart"],
                                  badge: 1, sound: "default", collapseID: "cart", ttl: 86_400, priority: .high)

    func sender(_ fake: PushFake, account json: String, engine: CurlEngine, clock: FakeClock) throws -> FCMSender {
        FCMSender(account: try FCMServiceAccount(json: json, field: "fcm.service_account_file"),
                  settings: FCMSettings(url: "http://127.0.0.1:\(fake.port)"), engine: engine, now: clock.now)
    }

    func failure(_ sender: FCMSender, _ token: String) async -> PushError? {
        do {
            _ = try await sender.send(Self.cart, token: token, key: "c1:u1:1")
            Issue.record("the send to \(token) was accepted")
            return nil
        } catch { return error }
    }

    func kinds(_ fake: PushFake) -> [String] {
        fake.records.map { "\($0["kind"] as? String ?? "?") \($0["status"] as? Int ?? 0)" }
    }

    @Test func messageIsAcceptedWithEveryBlock() async throws {
        let (fake, account) = try await PushFake.fcm()
        defer { fake.stop() }
        let fcm = try sender(fake, account: account, engine: sharedEngine, clock: FakeClock())
        let receipt = try await fcm.send(Self.cart, token: "device-token-1", key: "c1:u1:1")
        #expect(receipt.status == 200)
        #expect(receipt.providerMessageID?.hasPrefix("projects/herald-test/messages/") == true)
        #expect(kinds(fake) == ["token 200", "send 200"])
        let token = try #require(fake.records.first)
        #expect(token["iss"] as? String == fcm.account.clientEmail)
        let send = try #require(fake.records.last)
        #expect(send["name"] as? String == receipt.providerMessageID)
        let message = try #require(send["message"] as? [String: Any])
        #expect(message["token"] as? String == "device-token-1")
        #expect((message["data"] as? [String: String])?["herald_key"] == "c1:u1:1")
        #expect((message["android"] as? [String: Any])?["collapse_key"] as? String == "cart")
        #expect((message["android"] as? [String: Any])?["ttl"] as? String == "86400s")
        #expect(((message["webpush"] as? [String: Any])?["headers"] as? [String: String])?["Urgency"] == "high")
    }

    @Test func accessTokenIsCachedUntilFiveMinutesBeforeItExpires() async throws {
        let (fake, account) = try await PushFake.fcm()
        defer { fake.stop() }
        let clock = FakeClock()
        let fcm = try sender(fake, account: account, engine: sharedEngine, clock: clock)
        // Many first sends at once share one token request.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 { group.addTask { _ = try await fcm.send(Self.cart, token: "d\(i)", key: "k\(i)") } }
            try await group.waitForAll()
        }
        let tokens = fake.records.filter { $0["kind"] as? String == "token" }
        #expect(tokens.count == 1, "token requests: \(tokens)")
        // expires_in is 3599 s: fresh until 3299 s.
        clock.advance(3298)
        try fake.script([["advance": 3298]])
        _ = try await fcm.send(Self.cart, token: "d", key: "k")
        #expect(fake.records.filter { $0["kind"] as? String == "token" }.count == 1)
        clock.advance(2)
        try fake.script([["advance": 2]])
        _ = try await fcm.send(Self.cart, token: "d", key: "k")
        #expect(fake.records.filter { $0["kind"] as? String == "token" }.count == 2)
        #expect(fake.records.filter { $0["kind"] as? String == "send" }.allSatisfy { $0["status"] as? Int == 200 })
    }

    @Test func everyErrorCueIsClassified() async throws {
        let (fake, account) = try await PushFake.fcm()
        defer { fake.stop() }
        let fcm = try sender(fake, account: account, engine: sharedEngine, clock: FakeClock())
        let gone = await failure(fcm, "unregistered-1")
        #expect(gone?.verdict == .deadToken(since: nil))
        #expect(gone?.reason == "UNREGISTERED")
        #expect(gone?.status == 404)
        #expect(await failure(fcm, "invalid-1")?.verdict == .permanent)
        let quota = await failure(fcm, "quota-1")
        guard case .retry(let wait?) = quota?.verdict else { Issue.record("quota: \(String(describing: quota))"); return }
        #expect(wait >= 60)
        #expect(quota?.deliveryError.code == .slowDown)
        guard case .retry(let after?) = await failure(fcm, "unavailable-1")?.verdict else { Issue.record("unavailable"); return }
        #expect(after >= 1 && after <= 2)
        #expect(await failure(fcm, "internal-1")?.deliveryError.isRetryable == true)
        #expect(await failure(fcm, "mismatch-1")?.verdict == .permanent)
        let thirdParty = await failure(fcm, "thirdparty-1")
        #expect(thirdParty?.verdict == .permanent)
        #expect(fake.records.filter { $0["token"] as? String == "thirdparty-1" }.count == 1, "a 401 with an FCM code is not resent")
        #expect(await failure(fcm, "once-unavailable-1")?.deliveryError.isRetryable == true)
        #expect(try await fcm.send(Self.cart, token: "once-unavailable-1", key: "k").status == 200)
        try fake.script([["fail": 1, "error": "UNAVAILABLE", "retry_after": 7]])
        guard case .retry(let scripted?) = await failure(fcm, "d1")?.verdict else { Issue.record("scripted"); return }
        #expect(scripted >= 7 && scripted <= 10.5)
        #expect(fake.records.filter { $0["kind"] as? String == "token" }.count == 1)
    }

    @Test func revokedAccessTokenIsReplacedAndTheSendRepeatedOnce() async throws {
        let (fake, account) = try await PushFake.fcm()
        defer { fake.stop() }
        let fcm = try sender(fake, account: account, engine: sharedEngine, clock: FakeClock())
        _ = try await fcm.send(Self.cart, token: "d1", key: "k1")
        try fake.script([["revoke_tokens": true]])
        #expect(try await fcm.send(Self.cart, token: "d2", key: "k2").status == 200)
        #expect(kinds(fake) == ["token 200", "send 200", "send 401", "token 200", "send 200"])
    }

    @Test func tokenEndpointRefusalsAreClassified() async throws {
        let (fake, account) = try await PushFake.fcm()
        defer { fake.stop() }
        // An account the fake does not know (same token_uri, a key it never saw).
        try await PushFake.run("fcm_server.py", ["make-service-account", fake.dir.file("stranger.json"),
                                           "--token-uri", "http://127.0.0.1:\(fake.port)/token"])
        let stranger = try String(contentsOfFile: fake.dir.file("stranger.json"), encoding: .utf8)
        let refused = await failure(try sender(fake, account: stranger, engine: sharedEngine, clock: FakeClock()), "d1")
        #expect(refused?.verdict == .credentialsRefused)
        #expect(refused?.reason == "invalid_grant")
        #expect(refused?.deliveryError.code == .loginDenied)
        #expect(refused?.description.contains("BEGIN") == false)
        // The token endpoint down for a moment: retryable, and the next send gets its token.
        let fcm = try sender(fake, account: account, engine: sharedEngine, clock: FakeClock())
        try fake.script([["fail": 1, "target": "token", "status": 503, "error": "temporarily_unavailable", "retry_after": 2]])
        guard case .retry(let after?) = await failure(fcm, "d1")?.verdict else { Issue.record("token 503"); return }
        #expect(after >= 2)
        #expect(try await fcm.send(Self.cart, token: "d1", key: "k").status == 200)
    }
}
