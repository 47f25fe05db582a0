import Crypto
import Foundation
import HeraldDelivery
import Testing

@Suite struct WebhookSignerTests {
    // The Standard Webhooks spec's published vector; also checked against the Python reference library.
    let secret = WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")!

    @Test func matchesThePublishedTestVector() {
        let signature = WebhookSigner.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8),
            secret: secret)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    // The signer keeps HMAC's padded keys per secret; swift-crypto's HMAC is the reference, for keys shorter than,
    // as long as, and longer than SHA-256's 64-byte block, and bodies from empty to several blocks.
    @Test(arguments: [1, 24, 32, 63, 64, 65, 100, 300])
    func agreesWithHMACForEveryKeyLength(keyLength: Int) {
        let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ keyLength) }
        let secret = WebhookSecret("whsec_" + Data(key).base64EncodedString())!
        for bodyLength in [0, 1, 55, 64, 200, 1_000] {
            let body = (0..<bodyLength).map { UInt8(truncatingIfNeeded: $0 &* 11) }
            let id = "msg_\(keyLength)_\(bodyLength)", timestamp: Int64 = 1_795_432_530
            let mac = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(timestamp).".utf8) + body, using: SymmetricKey(data: key))
            #expect(WebhookSigner.signature(id: id, timestamp: timestamp, body: body, secret: secret)
                        == "v1," + Data(mac).base64EncodedString(), "key \(keyLength), body \(bodyLength)")
        }
    }

    @Test func oneSignaturePerSecretForRotation() {
        let other = WebhookSecret("whsec_" + "c2Vjb25kLXNlY3JldC1rZXk=")!
        let header = WebhookSigner.signatureHeader(id: "k1", timestamp: 1, body: Array("{}".utf8), secrets: [secret, other])
        let parts = header.split(separator: " ")
        #expect(parts.count == 2)
        #expect(parts.allSatisfy { $0.hasPrefix("v1,") })
        #expect(parts[0] != parts[1])
    }

    @Test func headersCarryTheIdempotencyKey() {
        let headers = WebhookSigner.headers(id: "camp:user:1", timestamp: 42, body: [], secrets: [secret])
        #expect(headers.contains(HeaderField("webhook-id", "camp:user:1")))
        #expect(headers.contains(HeaderField("webhook-timestamp", "42")))
    }

    @Test func secretsNeverPrintTheirKey() {
        #expect(!"\(secret)".contains("MfKQ9r8"))
        #expect(WebhookSecret("whsec_!!!") == nil)
        #expect(WebhookSecret("whsec_") == nil)
    }
}

@Suite struct SecretRedactionTests {
    @Test func requestsNeverPrintSecrets() {
        let http = HTTPRequest(url: "http://gw.example:13013/cgi-bin/sendsms?username=u&password=topsecret", password: "hunter2")
        let smtp = SMTPRequest(url: "smtps://user:pw@smtp.example:465", password: "hunter2", mailFrom: "a@b.example",
                               recipients: ["c@d.example"], message: [])
        for text in ["\(http)", String(reflecting: http), "\(smtp)", String(reflecting: smtp)] {
            #expect(!text.contains("topsecret") && !text.contains("hunter2") && !text.contains("pw@"), "\(text)")
        }
        #expect("\(http)" == "GET http://gw.example:13013")
    }
}
