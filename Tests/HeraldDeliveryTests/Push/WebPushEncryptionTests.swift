import Crypto
import Foundation
import Testing

@testable import HeraldDelivery

/// RFC 8291 message encryption: the RFC's own example, and a round trip decrypted as a browser decrypts it.
@Suite struct WebPushEncryptionTests {
    static func b64(_ text: String) -> [UInt8] { Base64URL.decodeLenient(text)! }

    /// A browser's side of a subscription: its key pair and auth secret.
    struct Browser {
        let key = P256.KeyAgreement.PrivateKey()
        let auth = (0..<16).map { _ in UInt8.random(in: 0...255) }

        var subscription: WebPushSubscription {
            WebPushSubscription(endpoint: "https://push.example.net/p/1",
                                p256dh: Base64URL.encode(Array(key.publicKey.x963Representation)),
                                auth: Base64URL.encode(auth))
        }

        /// Decrypts an `aes128gcm` body as RFC 8291 §3.4 and RFC 8188 §2 describe it, written out here
        /// independently of the sender's code.
        func decrypt(_ body: [UInt8]) throws -> [UInt8] {
            try #require(body.count > 86)
            let salt = Array(body[0..<16])
            let rs = body[16..<20].reduce(0) { $0 << 8 | Int($1) }
            let idlen = Int(body[20])
            let senderPublic = Array(body[21..<(21 + idlen)])
            let record = Array(body[(21 + idlen)...])
            try #require(record.count <= rs)
            let shared = try key.sharedSecretFromKeyAgreement(
                with: P256.KeyAgreement.PublicKey(x963Representation: senderPublic))
            let receiverPublic = Array(key.publicKey.x963Representation)
            let ikm = shared.hkdfDerivedSymmetricKey(
                using: SHA256.self, salt: auth, sharedInfo: Array("WebPush: info\0".utf8) + receiverPublic + senderPublic,
                outputByteCount: 32)
            let prk = HKDF<SHA256>.extract(inputKeyMaterial: ikm, salt: salt)
            let cek = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Array("Content-Encoding: aes128gcm\0".utf8), outputByteCount: 16)
            let nonce = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Array("Content-Encoding: nonce\0".utf8), outputByteCount: 12)
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce.withUnsafeBytes { Array($0) }),
                                            ciphertext: record.dropLast(16), tag: record.suffix(16))
            var padded = Array(try AES.GCM.open(box, using: cek))
            while padded.last == 0 { padded.removeLast() }
            try #require(padded.last == 0x02, "the last record ends with the 0x02 delimiter")
            return Array(padded.dropLast())
        }
    }

    @Test func rfc8291AppendixAExample() throws {
        let sender = try P256.KeyAgreement.PrivateKey(rawRepresentation: Self.b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
        let subscription = WebPushSubscription(
            endpoint: "https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV",
            p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            auth: "BTBZMqHH6r4Tts7J_aSIgg")
        let receiver = try #require(WebPushEncryption.ReceiverKeys(subscription))
        let body = try WebPushEncryption.encrypt(Array("When I grow up, I want to be a watermelon".utf8), to: receiver,
                                                 salt: Self.b64("DGv6ra1nlYgDCS1FRnbzlw"), senderKey: sender)
        #expect(Base64URL.encode(body) == "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
    }

    @Test func roundTripDecryptsWithTheBrowsersKey() throws {
        let browser = Browser()
        let receiver = try #require(WebPushEncryption.ReceiverKeys(browser.subscription))
        let plaintext = try PushPayload.webPushPlaintext(PushContent(title: "Hi ✓", body: "b", data: ["a": "1"]), key: "c:u:1")
        let body = try WebPushEncryption.encrypt(plaintext, to: receiver)
        #expect(body.count == plaintext.count + WebPushEncryption.overhead)
        #expect(Array(body[16..<21]) == [0, 0, 0x10, 0, 65])  // rs 4096, key id length 65
        #expect(try browser.decrypt(body) == plaintext)
        // Fresh salt and sender key each time: the same push never encrypts the same way twice.
        #expect(try WebPushEncryption.encrypt(plaintext, to: receiver) != body)
        #expect(throws: (any Error).self) { try Browser().decrypt(body) }
    }

    @Test func largestPlaintextMakesA4096ByteBody() throws {
        let browser = Browser()
        let receiver = try #require(WebPushEncryption.ReceiverKeys(browser.subscription))
        let plaintext = [UInt8](repeating: 0x61, count: PushPayload.webPushPlaintextLimit)
        let body = try WebPushEncryption.encrypt(plaintext, to: receiver)
        #expect(body.count == 4096)
        #expect(try browser.decrypt(body) == plaintext)
    }

    @Test func malformedSubscriptionKeysAreRefused() {
        let good = Browser().subscription
        var shortAuth = good
        shortAuth.auth = Base64URL.encode([1, 2, 3])
        var badPoint = good
        badPoint.p256dh = Base64URL.encode([UInt8](repeating: 4, count: 65))
        var notBase64 = good
        notBase64.p256dh = "***"
        for subscription in [shortAuth, badPoint, notBase64] {
            #expect(WebPushEncryption.ReceiverKeys(subscription) == nil)
        }
        var padded = good
        padded.p256dh += "="
        #expect(WebPushEncryption.ReceiverKeys(padded) != nil)
    }

    @Test func senderRefusesAnUnusableSubscriptionAsDead() throws {
        let engine = CurlEngine(threads: 1)
        defer { engine.shutdown() }
        let sender = WebPushSender(vapid: try VAPIDSigner(subject: "mailto:a@b.c", pem: freshP256PEM().1, field: "f"),
                                   engine: engine)
        var subscription = Browser().subscription
        subscription.endpoint = "ftp://push.example.net/1"
        let error = #expect(throws: PushError.self) { try sender.request(PushContent(title: "t"), to: subscription, key: "k", now: 0) }
        #expect(error?.isDeadToken == true)
    }
}
