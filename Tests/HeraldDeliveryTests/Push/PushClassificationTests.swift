import Testing

@testable import HeraldDelivery

/// Each provider's answers, classified as docs/push.md's table says.
@Suite struct PushClassificationTests {
    func apns(_ status: Int, _ reason: String?, timestamp: Int? = nil, headers: [HeaderField] = []) -> PushError? {
        var body = reason.map { #"{"reason":"\#($0)""# } ?? ""
        if let timestamp { body += #","timestamp":\#(timestamp)"# }
        if reason != nil { body += "}" }
        return APNsSender.classify(pushResponse(status, body, headers: headers), bodyBytes: 5000, now: 1_000, jitter: 0)
    }

    @Test func apnsAnswers() {
        #expect(apns(200, nil) == nil)
        #expect(apns(410, "Unregistered", timestamp: 1_750_000_000_123)?.verdict == .deadToken(since: 1_750_000_000.123))
        #expect(apns(410, "ExpiredToken")?.verdict == .deadToken(since: nil))
        let bad = apns(400, "BadDeviceToken")
        #expect(bad?.verdict == .deadToken(since: nil))
        #expect(bad?.reason == "BadDeviceToken")
        #expect(bad?.deliveryError.code == .deviceGone)
        #expect(apns(413, "PayloadTooLarge")?.verdict == .payloadTooLarge(bytes: 5000, limit: 4096))
        #expect(apns(403, "InvalidProviderToken")?.verdict == .credentialsRefused)
        #expect(apns(403, "InvalidProviderToken")?.deliveryError.code == .loginDenied)
        #expect(apns(403, "ExpiredProviderToken")?.verdict == .retry(after: 60))
        #expect(apns(429, "TooManyRequests")?.verdict == .retry(after: nil))
        #expect(apns(429, "TooManyRequests")?.deliveryError.code == .slowDown)
        #expect(apns(503, "ServiceUnavailable", headers: [HeaderField("retry-after", "5")])?.verdict == .retry(after: 5))
        #expect(apns(500, "InternalServerError")?.deliveryError.isRetryable == true)
        for reason in ["BadTopic", "DeviceTokenNotForTopic", "BadCollapseId", "MissingTopic"] {
            #expect(apns(400, reason)?.verdict == .permanent)
        }
        #expect(apns(404, "BadPath")?.verdict == .permanent)
    }

    func fcm(_ status: Int, canonical: String, code: String?, headers: [HeaderField] = []) -> PushError? {
        let details = code.map { #","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"\#($0)"}]"# } ?? ""
        let body = #"{"error":{"code":\#(status),"message":"m","status":"\#(canonical)"\#(details)}}"#
        return FCMSender.classify(pushResponse(status, body, headers: headers), now: 1_000, jitter: 0)
    }

    @Test func fcmAnswersAreDecidedByTheFcmErrorCode() {
        #expect(FCMSender.classify(pushResponse(200, #"{"name":"projects/p/messages/1"}"#), now: 0, jitter: 0) == nil)
        // The outer status of UNREGISTERED is NOT_FOUND: the detail decides.
        let gone = fcm(404, canonical: "NOT_FOUND", code: "UNREGISTERED")
        #expect(gone?.verdict == .deadToken(since: nil))
        #expect(gone?.reason == "UNREGISTERED")
        #expect(fcm(400, canonical: "INVALID_ARGUMENT", code: "INVALID_ARGUMENT")?.verdict == .permanent)
        #expect(fcm(403, canonical: "PERMISSION_DENIED", code: "SENDER_ID_MISMATCH")?.verdict == .permanent)
        #expect(fcm(401, canonical: "UNAUTHENTICATED", code: "THIRD_PARTY_AUTH_ERROR")?.verdict == .permanent)
        #expect(fcm(429, canonical: "RESOURCE_EXHAUSTED", code: "QUOTA_EXCEEDED")?.verdict == .retry(after: 60))
        let quota = fcm(429, canonical: "RESOURCE_EXHAUSTED", code: "QUOTA_EXCEEDED", headers: [HeaderField("Retry-After", "120")])
        #expect(quota?.verdict == .retry(after: 120))
        #expect(quota?.deliveryError.code == .slowDown)
        #expect(fcm(503, canonical: "UNAVAILABLE", code: "UNAVAILABLE", headers: [HeaderField("Retry-After", "1")])?.verdict == .retry(after: 1))
        #expect(fcm(500, canonical: "INTERNAL", code: "INTERNAL")?.verdict == .retry(after: nil))
        // No FCM code: the status decides.
        #expect(fcm(401, canonical: "UNAUTHENTICATED", code: nil)?.reason == "UNAUTHENTICATED")
        #expect(fcm(401, canonical: "UNAUTHENTICATED", code: nil)?.verdict == .credentialsRefused)
        #expect(fcm(403, canonical: "PERMISSION_DENIED", code: nil)?.verdict == .credentialsRefused)
        #expect(fcm(404, canonical: "NOT_FOUND", code: nil)?.verdict == .permanent)
        #expect(fcm(502, canonical: "UNAVAILABLE", code: nil)?.deliveryError.isRetryable == true)
    }

    @Test func fcmRetryAfterGetsJitterOfUpToHalf() {
        let response = pushResponse(503, #"{"error":{"code":503,"status":"UNAVAILABLE","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNAVAILABLE"}]}}"#,
                                    headers: [HeaderField("Retry-After", "10")])
        #expect(FCMSender.classify(response, now: 0, jitter: 0)?.verdict == .retry(after: 10))
        #expect(FCMSender.classify(response, now: 0, jitter: 0.5)?.verdict == .retry(after: 12.5))
        let quota = pushResponse(429, #"{"error":{"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"QUOTA_EXCEEDED"}]}}"#)
        #expect(FCMSender.classify(quota, now: 0, jitter: 0.999)?.verdict == .retry(after: 60 + 0.999 * 30))
    }

    @Test func fcmTokenEndpointRefusalsAreCredentialProblems() {
        let refused = FCMAccessTokens.classify(
            pushResponse(400, #"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#), now: 0, jitter: 0)
        #expect(refused.verdict == .credentialsRefused)
        #expect(refused.reason == "invalid_grant")
        #expect(refused.message.contains("Invalid JWT Signature."))
        let busy = FCMAccessTokens.classify(pushResponse(503, "{}", headers: [HeaderField("Retry-After", "3")]), now: 0, jitter: 0)
        #expect(busy.verdict == .retry(after: 3))
    }

    func webPush(_ status: Int, headers: [HeaderField] = []) -> PushError? {
        WebPushSender.classify(pushResponse(status, #"{"code":\#(status),"errno":1,"error":"e","message":"m"}"#, headers: headers),
                               bodyBytes: 4100, now: 0, jitter: 0)
    }

    @Test func webPushAnswersAreDecidedByStatus() {
        #expect(webPush(201) == nil)
        #expect(webPush(202) == nil)
        #expect(webPush(404)?.verdict == .deadToken(since: nil))
        #expect(webPush(410)?.verdict == .deadToken(since: nil))
        #expect(webPush(413)?.verdict == .payloadTooLarge(bytes: 4100, limit: 4096))
        #expect(webPush(429, headers: [HeaderField("Retry-After", "1")])?.verdict == .retry(after: 1))
        #expect(webPush(503)?.verdict == .retry(after: nil))
        #expect(webPush(401)?.verdict == .credentialsRefused)
        #expect(webPush(403)?.verdict == .permanent)
        #expect(webPush(400)?.verdict == .permanent)
    }

    @Test func deliveryErrorsCarryNoTokens() {
        let error = PushError(.deadToken(since: nil), provider: .apns, status: 410, reason: "Unregistered", "gone")
        #expect(error.description == "APNs 410 Unregistered: gone")
        #expect(PushDevice.apns(token: "aabbccddeeff0011").description == "APNs device …0011")
    }
}
