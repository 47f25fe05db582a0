import Foundation
import HeraldDelivery
import Testing

/// Pushes through libcurl's HTTP/2 to Tests/Fixtures/push/apns_server.py, which checks them as APNs does.
@Suite(
    .serialized, .enabled(if: pushFakeSuitesEnabled, "push suites run in their own process (HERALD_PUSH_FAKE_TESTS=1, scripts/test.sh)"),
    .enabled(if: pushFakesMissing == nil, "python packages for the push fakes are missing"))
struct APNsFakeTests {
    static let cart = PushContent(title: "Ana, your cart is waiting", body: "Complete your order.", data: ["deep_link": "shop://cart"],
                                  badge: 1, sound: "default", collapseID: "cart", ttl: 3600, priority: .high)

    /// A sender to `fake` signing with `pem` on `clock`, over `engine`.
    func sender(_ fake: PushFake, pem: String, engine: CurlEngine, clock: FakeClock, keyID: String = "KEY1234567") throws -> APNsSender {
        APNsSender(
            settings: APNsSettings(topic: "com.example.shop", url: "https://127.0.0.1:\(fake.port)", tls: TLSOptions(caFile: fake.ca)),
            providerToken: try APNsProviderToken(teamID: "TEAM123456", keyID: keyID, pem: pem, field: "apns.key_file"),
            engine: engine, now: clock.now)
    }

    /// The error of a push that must fail.
    func failure(_ sender: APNsSender, _ token: String, _ content: PushContent = cart) async -> PushError? {
        do {
            _ = try await sender.send(content, token: token, key: "c1:u1:1")
            Issue.record("the push to \(token.prefix(4))… was accepted")
            return nil
        } catch { return error }
    }

    @Test func alertPushIsAcceptedWithTheDerivedIdAndHeaders() async throws {
        let (fake, pem) = try await PushFake.apns()
        defer { fake.stop() }
        let engine = APNsSender.engine()
        defer { engine.shutdown() }
        let clock = FakeClock()
        let receipt = try await sender(fake, pem: pem, engine: engine, clock: clock).send(Self.cart, token: "aabbccdd00112233", key: "c1:u1:1")
        let id = PushPayload.apnsID(key: "c1:u1:1", deviceToken: "aabbccdd00112233")
        #expect(receipt == PushReceipt(provider: .apns, providerMessageID: id, status: 200))
        let record = try #require(fake.records.first)
        #expect(record["status"] as? Int == 200)
        #expect(record["apns_id"] as? String == id)
        let headers = try #require(record["headers"] as? [String: String])
        #expect(headers["apns-topic"] == "com.example.shop")
        #expect(headers["apns-push-type"] == "alert")
        #expect(headers["apns-priority"] == "10")
        #expect(headers["apns-collapse-id"] == "cart")
        let expiration = try #require(headers["apns-expiration"].flatMap(Int.init))
        #expect(abs(Double(expiration) - clock.now() - 3600) < 5)
        let payload = try #require(record["payload"] as? [String: Any])
        #expect(payload["herald_key"] as? String == "c1:u1:1")
        #expect((payload["aps"] as? [String: Any])?["badge"] as? Int == 1)
        #expect((record["jwt"] as? [String: Any])?["iss"] as? String == "TEAM123456")
        #expect((record["jwt"] as? [String: Any])?["kid"] as? String == "KEY1234567")
    }

    @Test func concurrentPushesShareOneConnectionAndOneToken() async throws {
        let (fake, pem) = try await PushFake.apns()
        defer { fake.stop() }
        let engine = APNsSender.engine()
        defer { engine.shutdown() }
        let apns = try sender(fake, pem: pem, engine: engine, clock: FakeClock())
        let count = 300
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<count {
                group.addTask { try await apns.send(Self.cart, token: String(format: "aa%06x", i), key: "c1:u\(i):1").status }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: count))
        let records = fake.records
        #expect(records.count == count)
        #expect(Set(records.compactMap { $0["conn"] as? Int }) == [1], "one HTTP/2 connection")
        #expect((records.compactMap { $0["batch"] as? Int }.max() ?? 0) > 1, "streams multiplexed")
        #expect(Set(records.compactMap { ($0["jwt"] as? [String: Any])?["iat"] as? Int }).count == 1, "one provider token")
        #expect(Set(records.compactMap { $0["apns_id"] as? String }).count == count)
    }

    /// APNs starts a connection with a low stream limit: the first push goes alone, so the burst behind it does
    /// not overflow the limit into a connection per push.
    @Test func burstIntoAFreshLowLimitConnectionStaysOnOneConnection() async throws {
        let (fake, pem) = try await PushFake.apns(["--initial-streams", "1"])
        defer { fake.stop() }
        let engine = APNsSender.engine()
        defer { engine.shutdown() }
        let apns = try sender(fake, pem: pem, engine: engine, clock: FakeClock())
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<50 {
                group.addTask { try await apns.send(Self.cart, token: String(format: "bb%06x", i), key: "c1:u\(i):1").status }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 50))
        #expect(Set(fake.records.compactMap { $0["conn"] as? Int }) == [1])
    }

    @Test func everyErrorCueIsClassified() async throws {
        let (fake, pem) = try await PushFake.apns()
        defer { fake.stop() }
        let engine = APNsSender.engine()
        defer { engine.shutdown() }
        let apns = try sender(fake, pem: pem, engine: engine, clock: FakeClock())
        let dead = await failure(apns, "dead0001")
        guard case .deadToken(let since?) = dead?.verdict else { Issue.record("dead: \(String(describing: dead))"); return }
        #expect(abs(since - Date().timeIntervalSince1970) < 60)
        #expect(dead?.reason == "Unregistered")
        #expect(await failure(apns, "04100001")?.isDeadToken == true)
        let expired = await failure(apns, "e4100001")
        #expect(expired?.isDeadToken == true)
        #expect(expired?.reason == "ExpiredToken")
        let bad = await failure(apns, "04000001")
        #expect(bad?.verdict == .deadToken(since: nil))
        #expect(bad?.reason == "BadDeviceToken")
        for token in ["04290001", "05000001", "05030001"] {
            let error = await failure(apns, token)
            #expect(error?.verdict == .retry(after: nil), "\(token)")
            #expect(error?.deliveryError.isRetryable == true)
        }
        // A token that fails once and then works, as a retry would see it.
        #expect(await failure(apns, "15030001")?.deliveryError.isRetryable == true)
        #expect(try await apns.send(Self.cart, token: "15030001", key: "k").status == 200)
        // A scripted outage with Retry-After.
        try fake.script([["fail": 1, "status": 503, "reason": "ServiceUnavailable", "retry_after": 5]])
        guard case .retry(let after?) = await failure(apns, "aa01")?.verdict else { Issue.record("no retry-after"); return }
        #expect(after >= 5 && after <= 7.5)
        // Not hexadecimal: dead without asking APNs.
        let before = fake.records.count
        #expect(await failure(apns, "not-hex")?.reason == "BadDeviceToken")
        #expect(fake.records.count == before)
    }

    @Test func oversizePayloadsArePayloadTooLarge() async throws {
        let (fake, pem) = try await PushFake.apns()
        defer { fake.stop() }
        let engine = APNsSender.engine()
        defer { engine.shutdown() }
        let apns = try sender(fake, pem: pem, engine: engine, clock: FakeClock())
        let big = PushContent(title: "t", data: ["x": String(repeating: "a", count: 4100)])
        let error = await failure(apns, "aabb", big)
        #expect(error?.verdict == .payloadTooLarge(bytes: PushPayload.size(of: big, key: "c1:u1:1", for: .apns).bytes, limit: 4096))
        #expect(fake.records.isEmpty, "refused before sending")
        // What APNs answers to an oversize body is classified the same way.
        let now = Date().timeIntervalSince1970
        let jwt = try apns.providerToken.token(now: now).jwt
        let request = apns.request(big, token: "aabb", id: PushPayload.apnsID(key: "k", deviceToken: "aabb"), jwt: jwt,
                                   body: Array(repeating: 0x20, count: 4097), now: now)
        let response = try await engine.send(request)
        #expect(response.httpVersion == 2)
        #expect(APNsSender.classify(response, bodyBytes: 4097, now: now, jitter: 0)?.verdict == .payloadTooLarge(bytes: 4097, limit: 4096))
    }

    @Test func providerTokenIsRenewedAfter50MinutesOnTheSameConnection() async throws {
        let (fake, pem) = try await PushFake.apns()
        defer { fake.stop() }
        let engine = APNsSender.engine()
        defer { engine.shutdown() }
        let clock = FakeClock()
        let apns = try sender(fake, pem: pem, engine: engine, clock: clock)
        _ = try await apns.send(Self.cart, token: "aa01", key: "k1")
        clock.advance(49 * 60)
        try fake.script([["advance": 49 * 60]])
        _ = try await apns.send(Self.cart, token: "aa02", key: "k2")
        clock.advance(2 * 60)
        try fake.script([["advance": 2 * 60]])
        _ = try await apns.send(Self.cart, token: "aa03", key: "k3")
        let records = fake.records
        #expect(records.map { $0["status"] as? Int } == [200, 200, 200])
        #expect(Set(records.compactMap { $0["conn"] as? Int }) == [1])
        let iats = records.compactMap { ($0["jwt"] as? [String: Any])?["iat"] as? Int }
        #expect(iats[0] == iats[1])
        #expect(iats[2] - iats[0] >= 51 * 60 - 1)
    }

    @Test func expiredProviderTokenIsRenewedOnceButNeverWithin20Minutes() async throws {
        let (fake, pem) = try await PushFake.apns()
        defer { fake.stop() }
        let engine = APNsSender.engine()
        defer { engine.shutdown() }
        let clock = FakeClock()
        let apns = try sender(fake, pem: pem, engine: engine, clock: clock)
        _ = try await apns.send(Self.cart, token: "aa01", key: "k1")
        // APNs's clock runs an hour ahead of ours: our 30-minute-old token is expired there.
        clock.advance(30 * 60)
        try fake.script([["advance": 61 * 60]])
        #expect(try await apns.send(Self.cart, token: "aa02", key: "k2").status == 200)
        var records = fake.records
        #expect(records.map { $0["reason"] as? String } == [nil, "ExpiredProviderToken", nil])
        // Again, but our token is only 5 minutes old: no new token (the 20-minute rule), a retryable error.
        clock.advance(5 * 60)
        try fake.script([["advance": 61 * 60]])
        let error = await failure(apns, "aa03")
        #expect(error?.reason == "ExpiredProviderToken")
        #expect(error?.deliveryError.isRetryable == true)
        records = fake.records
        #expect(records.count == 4)
        let iats = records.compactMap { ($0["jwt"] as? [String: Any])?["iat"] as? Int }
        #expect(Set(iats).count == 2)
    }

    @Test func foreignKeyIsACredentialsProblem() async throws {
        let (fake, _) = try await PushFake.apns()
        defer { fake.stop() }
        let engine = APNsSender.engine()
        defer { engine.shutdown() }
        try await PushFake.run("apns_server.py", ["make-key", fake.dir.file("other.p8")])
        let foreign = try String(contentsOfFile: fake.dir.file("other.p8"), encoding: .utf8)
        let error = await failure(try sender(fake, pem: foreign, engine: engine, clock: FakeClock()), "aa01")
        #expect(error?.verdict == .credentialsRefused)
        #expect(error?.deliveryError.code == .loginDenied)
        #expect(error?.description.contains("eyJ") == false, "no token in the error")
    }

    @Test func goawayIsSurvivedOnANewConnection() async throws {
        let (fake, pem) = try await PushFake.apns()
        defer { fake.stop() }
        let engine = APNsSender.engine()
        defer { engine.shutdown() }
        let apns = try sender(fake, pem: pem, engine: engine, clock: FakeClock())
        _ = try await apns.send(Self.cart, token: "aa01", key: "k1")
        try fake.script([["goaway": "Shutdown"]])
        do {
            _ = try await apns.send(Self.cart, token: "aa02", key: "k2")
        } catch {
            #expect(error.deliveryError.isRetryable, "a push refused by GOAWAY may be sent again: \(error)")
        }
        #expect(try await apns.send(Self.cart, token: "aa03", key: "k3").status == 200)
        #expect(fake.records.last?["conn"] as? Int == 2)
    }
}
