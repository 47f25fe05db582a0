import Foundation
import Testing

@testable import HeraldDelivery

/// The bytes each provider gets, their limits, and the ids derived from the ledger key.
@Suite struct PushPayloadTests {
    let cart = PushContent(title: "Ana, your cart is waiting", body: "Complete your order before midnight.",
                           data: ["deep_link": "shop://cart"], badge: 1, sound: "default", collapseID: "cart",
                           ttl: 86_400, priority: .high)

    @Test func apnsPayloadHasAlertBadgeSoundAndDataWithTheKey() throws {
        let json = try jsonObject(PushPayload.apnsBody(cart, key: "c1:u1:1"))
        let aps = try #require(json["aps"] as? [String: Any])
        let alert = try #require(aps["alert"] as? [String: Any])
        #expect(alert["title"] as? String == "Ana, your cart is waiting")
        #expect(alert["body"] as? String == "Complete your order before midnight.")
        #expect(aps["badge"] as? Int == 1)
        #expect(aps["sound"] as? String == "default")
        #expect(aps["content-available"] == nil)
        #expect(json["deep_link"] as? String == "shop://cart")
        #expect(json["herald_key"] as? String == "c1:u1:1")
    }

    @Test func silentPushIsBackgroundWithContentAvailableAndPriorityFive() throws {
        let silent = PushContent(data: ["sync": "1"], priority: .high)
        let aps = try #require(try jsonObject(PushPayload.apnsBody(silent, key: "k"))["aps"] as? [String: Any])
        #expect(aps["content-available"] as? Int == 1)
        #expect(aps["alert"] == nil)
        let headers = Dictionary(uniqueKeysWithValues: APNsSender.headers(silent, topic: "t", now: 0).map { ($0.name, $0.value) })
        #expect(headers["apns-push-type"] == "background")
        #expect(headers["apns-priority"] == "5")
    }

    @Test func campaignDataCannotReplaceTheLedgerKey() throws {
        var content = cart
        content.data["herald_key"] = "forged"
        #expect(try jsonObject(PushPayload.apnsBody(content, key: "real"))["herald_key"] as? String == "real")
        #expect(try jsonObject(PushPayload.webPush(content, key: "real").bytes)["data"].flatMap { $0 as? [String: Any] }?["herald_key"] as? String == "real")
    }

    @Test func escapingIsValidJSON() throws {
        let content = PushContent(title: "Quote \" back\\slash\nnew\u{1}line é ✓", body: "b")
        let alert = try #require(try jsonObject(PushPayload.apnsBody(content, key: "k"))["aps"] as? [String: Any])["alert"]
        #expect((alert as? [String: Any])?["title"] as? String == "Quote \" back\\slash\nnew\u{1}line é ✓")
    }

    @Test func apnsLimitIs4096BytesExactly() throws {
        let base = PushPayload.size(of: PushContent(title: "t", data: ["x": ""]), key: "k", for: .apns).bytes
        let fits = PushContent(title: "t", data: ["x": String(repeating: "a", count: 4096 - base)])
        #expect(PushPayload.size(of: fits, key: "k", for: .apns) == PushPayloadSize(provider: .apns, bytes: 4096, limit: 4096))
        #expect(try PushPayload.apnsBody(fits, key: "k").count == 4096)
        var over = fits
        over.data["x"]! += "a"
        #expect(!PushPayload.size(of: over, key: "k", for: .apns).fits)
        let error = #expect(throws: PushError.self) { try PushPayload.apnsBody(over, key: "k") }
        #expect(error?.verdict == .payloadTooLarge(bytes: 4097, limit: 4096))
        #expect(error?.deliveryError.code == .payloadTooLarge)
        #expect(error?.deliveryError.isRetryable == false)
    }

    @Test func fcmCountsDataAndNotificationBytes() throws {
        let content = PushContent(title: "ab", body: "cde", data: ["k1": "v1"])
        // "k1"+"v1" + "herald_key"+"key" + "ab" + "cde"
        #expect(PushPayload.size(of: content, key: "key", for: .fcm).bytes == 4 + 13 + 5)
        // "x" + value + "herald_key" + "key": 14 bytes besides the value.
        let fits = PushContent(data: ["x": String(repeating: "a", count: 4096 - 14)])
        #expect(PushPayload.size(of: fits, key: "key", for: .fcm) == PushPayloadSize(provider: .fcm, bytes: 4096, limit: 4096))
        _ = try PushPayload.fcmBody(fits, key: "key", token: "t", now: 0)
        let over = PushContent(data: ["x": String(repeating: "a", count: 4096 - 13)])
        let error = #expect(throws: PushError.self) { try PushPayload.fcmBody(over, key: "key", token: "t", now: 0) }
        #expect(error?.verdict == .payloadTooLarge(bytes: 4097, limit: 4096))
    }

    @Test func fcmMessageCarriesCollapseTTLAndPriorityInEveryBlock() throws {
        let body = try jsonObject(PushPayload.fcmBody(cart, key: "c1:u1:1", token: "tok", now: 1_000))
        #expect(body["validate_only"] as? Bool == false)
        let message = try #require(body["message"] as? [String: Any])
        #expect(message["token"] as? String == "tok")
        #expect((message["notification"] as? [String: String]) == ["title": "Ana, your cart is waiting",
                                                                     "body": "Complete your order before midnight."])
        #expect((message["data"] as? [String: String]) == ["deep_link": "shop://cart", "herald_key": "c1:u1:1"])
        let android = try #require(message["android"] as? [String: Any])
        #expect(android["priority"] as? String == "HIGH")
        #expect(android["collapse_key"] as? String == "cart")
        #expect(android["ttl"] as? String == "86400s")
        let apns = try #require(message["apns"] as? [String: Any])
        #expect((apns["headers"] as? [String: String]) == ["apns-priority": "10", "apns-collapse-id": "cart",
                                                            "apns-expiration": "87400"])
        let webpush = try #require(message["webpush"] as? [String: Any])
        #expect((webpush["headers"] as? [String: String]) == ["TTL": "86400", "Urgency": "high", "Topic": "cart"])
    }

    @Test func reservedDataKeysArePermanentErrors() {
        for key in ["from", "notification", "message_type", "google.x", "gcm.y"] {
            let error = #expect(throws: PushError.self) {
                try PushPayload.fcmBody(PushContent(title: "t", data: [key: "v"]), key: "k", token: "t", now: 0)
            }
            #expect(error?.verdict == .permanent)
        }
        #expect(throws: PushError.self) { try PushPayload.apnsBody(PushContent(title: "t", data: ["aps": "v"]), key: "k") }
    }

    @Test func webPushPlaintextLimitIs3993Bytes() throws {
        #expect(PushPayload.webPushPlaintextLimit == 3993)
        let base = PushPayload.size(of: PushContent(data: ["x": ""]), key: "k", for: .webPush).bytes
        let fits = PushContent(data: ["x": String(repeating: "a", count: 3993 - base)])
        #expect(try PushPayload.webPushPlaintext(fits, key: "k").count == 3993)
        var over = fits
        over.data["x"]! += "a"
        let error = #expect(throws: PushError.self) { try PushPayload.webPushPlaintext(over, key: "k") }
        #expect(error?.verdict == .payloadTooLarge(bytes: 3994, limit: 3993))
    }

    @Test func apnsHeadersFollowPriorityTTLAndCollapse() {
        let headers = APNsSender.headers(cart, topic: "com.example.shop", now: 1_000.7)
        #expect(headers.map(\.name) == ["apns-topic", "apns-push-type", "apns-priority", "apns-expiration", "apns-collapse-id"])
        #expect(headers.map(\.value) == ["com.example.shop", "alert", "10", "87400", "cart"])
        var normal = cart
        normal.priority = .normal
        normal.ttl = 0
        normal.collapseID = nil
        let values = APNsSender.headers(normal, topic: "t", now: 1_000).map(\.value)
        #expect(values == ["t", "alert", "5", "0"])
    }

    @Test func longCollapseIdsAreHashedWithinLimits() {
        let long = String(repeating: "é", count: 40)  // 80 bytes
        let apns = PushPayload.apnsCollapseID(long)
        #expect(apns.utf8.count == 64)
        #expect(apns == PushPayload.apnsCollapseID(long))
        #expect(PushPayload.apnsCollapseID(String(repeating: "a", count: 64)) == String(repeating: "a", count: 64))
        let topic = PushPayload.webPushTopic("spring sale/2025")
        #expect(topic.count == 32)
        #expect(topic.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(PushPayload.webPushTopic("cart_1-A") == "cart_1-A")
        #expect(PushPayload.webPushTopic(String(repeating: "a", count: 33)).count == 32)
    }

    @Test func apnsIdIsADeterministicUUIDPerKeyAndDevice() {
        let id = PushPayload.apnsID(key: "c1:u1:1", deviceToken: "aabb")
        #expect(id == PushPayload.apnsID(key: "c1:u1:1", deviceToken: "aabb"))
        #expect(id != PushPayload.apnsID(key: "c1:u1:2", deviceToken: "aabb"))
        #expect(id != PushPayload.apnsID(key: "c1:u1:1", deviceToken: "aabc"))
        #expect(UUID(uuidString: id) != nil)
        #expect(id == id.uppercased())
        #expect(id.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12])
        #expect(Array(id)[14] == "8")  // version 8
        #expect("89AB".contains(Array(id)[19]))  // the RFC variant
    }
}
