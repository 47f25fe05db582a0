import Crypto

/// Web Push message encryption (RFC 8291 over RFC 8188 `aes128gcm`): only the browser that holds the
/// subscription's private key can read a push; the push service sees ciphertext (docs/push.md).
public enum WebPushEncryption {
    /// The record size written in the header: one record holds the whole message.
    public static let recordSize = 4096
    /// The header: salt (16), record size (4), key id length (1) and the sender's public key (65).
    public static let headerSize = 16 + 4 + 1 + 65
    /// Bytes added to the plaintext: the header, the padding delimiter (1) and the AES-GCM tag (16).
    public static let overhead = headerSize + 1 + 16

    /// A subscription's keys, checked: the browser's P-256 public key and its 16-byte auth secret.
    public struct ReceiverKeys: Sendable {
        /// The browser's public key, uncompressed point (swift-crypto's key type is not `Sendable`).
        public let publicKey: [UInt8]
        /// The shared authentication secret.
        public let authSecret: [UInt8]

        /// The keys of `subscription`, or nil when `p256dh` is not an uncompressed P-256 point or `auth` not
        /// 16 bytes of base64url.
        public init?(_ subscription: WebPushSubscription) {
            guard let point = Base64URL.decodeLenient(subscription.p256dh), point.count == 65, point.first == 0x04,
                  (try? P256.KeyAgreement.PublicKey(x963Representation: point)) != nil,
                  let auth = Base64URL.decodeLenient(subscription.auth), auth.count == 16
            else { return nil }
            publicKey = point
            authSecret = auth
        }
    }

    /// The `aes128gcm` body for `plaintext`: header, then one record (plaintext, the last-record delimiter 0x02,
    /// encrypted, tag appended). `salt` and `senderKey` are fresh random values unless given (tests).
    public static func encrypt(_ plaintext: [UInt8], to receiver: ReceiverKeys, salt: [UInt8]? = nil,
                               senderKey: P256.KeyAgreement.PrivateKey? = nil) throws -> [UInt8] {
        let salt = salt ?? (0..<16).map { _ in UInt8.random(in: 0...255) }
        let sender = senderKey ?? P256.KeyAgreement.PrivateKey()
        let senderPublic = Array(sender.publicKey.x963Representation)
        let receiverKey = try P256.KeyAgreement.PublicKey(x963Representation: receiver.publicKey)
        let (key, nonce) = try derive(shared: sender.sharedSecretFromKeyAgreement(with: receiverKey),
                                      authSecret: receiver.authSecret, receiverPublic: receiver.publicKey,
                                      senderPublic: senderPublic, salt: salt)
        let sealed = try AES.GCM.seal(plaintext + [0x02], using: key, nonce: AES.GCM.Nonce(data: nonce))
        var size = UInt32(recordSize).bigEndian
        let rs = withUnsafeBytes(of: &size) { Array($0) }
        return salt + rs + [UInt8(senderPublic.count)] + senderPublic + Array(sealed.ciphertext) + Array(sealed.tag)
    }

    /// The content-encryption key and nonce (RFC 8291 §3.4, RFC 8188 §2.2): the ECDH secret mixed with the auth
    /// secret into the input keying material, then keyed by the salt.
    static func derive(shared: SharedSecret, authSecret: [UInt8], receiverPublic: [UInt8], senderPublic: [UInt8],
                       salt: [UInt8]) throws -> (SymmetricKey, [UInt8]) {
        let ecdh = shared.withUnsafeBytes { SymmetricKey(data: $0) }
        let info = Array("WebPush: info".utf8) + [0] + receiverPublic + senderPublic
        let ikm = HKDF<SHA256>.deriveKey(inputKeyMaterial: ecdh, salt: authSecret, info: info, outputByteCount: 32)
        let prk = HKDF<SHA256>.extract(inputKeyMaterial: ikm, salt: salt)
        let key = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Array("Content-Encoding: aes128gcm".utf8) + [0],
                                      outputByteCount: 16)
        let nonce = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Array("Content-Encoding: nonce".utf8) + [0],
                                        outputByteCount: 12)
        return (key, nonce.withUnsafeBytes { Array($0) })
    }
}
