import Crypto
import Foundation
import Testing
import _CryptoExtras

@testable import HeraldDelivery

/// The three providers' credentials: what the tokens say, that they verify, and when they are renewed.
@Suite struct PushTokenTests {
    // MARK: APNs

    @Test func apnsTokenIsAnES256JWTWithKidIssAndIat() throws {
        let (key, pem) = freshP256PEM()
        let signer = try APNsProviderToken(teamID: "TEAM123456", keyID: "KEY1234567", pem: pem, field: "apns.key_file")
        let token = try signer.token(now: 1_750_000_000.9)
        let jwt = try DecodedJWT(token.jwt)
        #expect(jwt.header["alg"] as? String == "ES256")
        #expect(jwt.header["kid"] as? String == "KEY1234567")
        #expect(jwt.claims["iss"] as? String == "TEAM123456")
        #expect(jwt.claims["iat"] as? Int == 1_750_000_000)
        #expect(jwt.claims.count == 2)
        #expect(jwt.isValidES256(key.publicKey))
        #expect(!jwt.isValidES256(P256.Signing.PrivateKey().publicKey))
    }

    @Test func apnsTokenIsReusedFor50MinutesThenRenewed() throws {
        let signer = try APNsProviderToken(teamID: "T", keyID: "K", pem: freshP256PEM().1, field: "f")
        let clock = PushTestClock()
        let first = try signer.token(now: clock.now())
        clock.advance(50 * 60 - 1)
        #expect(try signer.token(now: clock.now()) == first)
        clock.advance(1)
        let second = try signer.token(now: clock.now())
        #expect(second != first)
        #expect(second.issuedAt == first.issuedAt + 50 * 60)
    }

    @Test func apnsTokenIsNeverRenewedWithin20MinutesEvenWhenCalledExpired() throws {
        let signer = try APNsProviderToken(teamID: "T", keyID: "K", pem: freshP256PEM().1, field: "f")
        let clock = PushTestClock()
        let first = try signer.token(now: clock.now())
        clock.advance(20 * 60 - 1)
        #expect(!signer.renew(after: first, now: clock.now()))
        #expect(try signer.token(now: clock.now()) == first)
        clock.advance(1)
        #expect(signer.renew(after: first, now: clock.now()))
        let second = try signer.token(now: clock.now())
        #expect(second.issuedAt == first.issuedAt + 20 * 60)
        // A push that still held the first token learns a newer one is in use, without a second renewal.
        #expect(signer.renew(after: first, now: clock.now()))
        #expect(try signer.token(now: clock.now()) == second)
    }

    @Test func badApnsKeyNamesTheFieldNotTheKey() {
        let error = #expect(throws: DeliveryError.self) {
            try APNsProviderToken(teamID: "T", keyID: "K", pem: "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----",
                                  field: "channels.push.apns.key_file")
        }
        #expect(error?.message.hasPrefix("channels.push.apns.key_file:") == true)
        #expect(error?.message.contains("c2VjcmV0") == false)
    }

    // MARK: VAPID

    @Test func vapidTokenHasAudExpAndSubAndVerifiesWithK() throws {
        let (key, pem) = freshP256PEM()
        let vapid = try VAPIDSigner(subject: "mailto:ops@shop.example", pem: pem, field: "webpush.private_key_file")
        let authorization = try vapid.authorization(audience: "https://push.example.net", now: 1_750_000_000)
        let match = try #require(authorization.wholeMatch(of: /vapid t=([^,]+), k=([A-Za-z0-9_-]+)/))
        #expect(String(match.2) == Base64URL.encode(Array(key.publicKey.x963Representation)))
        let jwt = try DecodedJWT(String(match.1))
        #expect(jwt.header["alg"] as? String == "ES256")
        #expect(jwt.claims["aud"] as? String == "https://push.example.net")
        #expect(jwt.claims["sub"] as? String == "mailto:ops@shop.example")
        let exp = try #require(jwt.claims["exp"] as? Int)
        #expect(exp > 1_750_000_000 && exp <= 1_750_000_000 + 24 * 3600)
        #expect(jwt.isValidES256(key.publicKey))
    }

    @Test func vapidTokensAreCachedPerAudienceUntilAnHourIsLeft() throws {
        let vapid = try VAPIDSigner(subject: "https://shop.example", pem: freshP256PEM().1, field: "f")
        let clock = PushTestClock()
        let a = try vapid.token(audience: "https://a.example", now: clock.now())
        let b = try vapid.token(audience: "https://b.example", now: clock.now())
        #expect(a != b)
        clock.advance(Double(VAPIDSigner.lifetime - VAPIDSigner.renewBefore))
        #expect(try vapid.token(audience: "https://a.example", now: clock.now()) == a)
        clock.advance(1)
        #expect(try vapid.token(audience: "https://a.example", now: clock.now()) != a)
    }

    @Test func vapidSubjectMustBeMailtoOrHttps() {
        #expect(throws: DeliveryError.self) { try VAPIDSigner(subject: "ops@shop.example", pem: freshP256PEM().1, field: "f") }
    }

    @Test func originOfEndpoints() {
        #expect(VAPIDSigner.origin(of: "https://fcm.googleapis.com/fcm/send/abc") == "https://fcm.googleapis.com")
        #expect(VAPIDSigner.origin(of: "https://Push.Example.NET:443/x?y") == "https://push.example.net")
        #expect(VAPIDSigner.origin(of: "http://127.0.0.1:41234/push/sub1") == "http://127.0.0.1:41234")
        #expect(VAPIDSigner.origin(of: "https://user:pw@host:8443/p") == "https://host:8443")
        #expect(VAPIDSigner.origin(of: "ftp://host/p") == nil)
        #expect(VAPIDSigner.origin(of: "https:///p") == nil)
    }

    // MARK: FCM

    static func serviceAccount(key: _RSA.Signing.PrivateKey, tokenURI: String = "https://oauth2.googleapis.com/token") -> String {
        let object: [String: String] = [
            "type": "service_account", "project_id": "herald-test", "private_key_id": "kid-1",
            "private_key": key.pemRepresentation, "client_email": "sender@herald-test.iam.gserviceaccount.com",
            "token_uri": tokenURI,
        ]
        return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test func fcmAssertionIsRS256WithTheGrantClaims() throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let account = try FCMServiceAccount(json: Self.serviceAccount(key: key), field: "fcm.service_account_file")
        #expect(account.projectID == "herald-test")
        let jwt = try DecodedJWT(try account.assertion(now: 1_750_000_000.5))
        #expect(jwt.header["alg"] as? String == "RS256")
        #expect(jwt.header["kid"] as? String == "kid-1")
        #expect(jwt.claims["iss"] as? String == "sender@herald-test.iam.gserviceaccount.com")
        #expect(jwt.claims["scope"] as? String == "https://www.googleapis.com/auth/firebase.messaging")
        #expect(jwt.claims["aud"] as? String == "https://oauth2.googleapis.com/token")
        #expect(jwt.claims["iat"] as? Int == 1_750_000_000)
        #expect(jwt.claims["exp"] as? Int == 1_750_003_600)
        let signature = _RSA.Signing.RSASignature(rawRepresentation: jwt.signature)
        #expect(key.publicKey.isValidSignature(signature, for: jwt.signingInput, padding: .insecurePKCS1v1_5))
        let other = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        #expect(!other.publicKey.isValidSignature(signature, for: jwt.signingInput, padding: .insecurePKCS1v1_5))
    }

    @Test func serviceAccountErrorsNameTheFieldAndNeverTheKey() throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(Self.serviceAccount(key: key).utf8)) as? [String: Any])
        object["client_email"] = nil
        let missing = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let error = #expect(throws: DeliveryError.self) { try FCMServiceAccount(json: missing, field: "channels.push.fcm") }
        #expect(error?.message == "channels.push.fcm: the field 'client_email' is missing or empty")
        object["client_email"] = "x@y"
        object["private_key"] = "-----BEGIN PRIVATE KEY-----\nTOPSECRET\n-----END PRIVATE KEY-----"
        let bad = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let keyError = #expect(throws: DeliveryError.self) { try FCMServiceAccount(json: bad, field: "channels.push.fcm") }
        #expect(keyError?.message.contains("TOPSECRET") == false)
        #expect(throws: DeliveryError.self) { try FCMServiceAccount(json: "not json", field: "f") }
    }

    @Test func fcmAccessTokenIsFreshUntilFiveMinutesBeforeExpiry() {
        let token = FCMAccessToken(value: "ya29.x", expiresAt: 10_000)
        #expect(token.isFresh(now: 10_000 - 301))
        #expect(!token.isFresh(now: 10_000 - 300))
        #expect(!token.isFresh(now: 10_001))
    }
}
