import Crypto
import Foundation

/// A Standard Webhooks signing secret (`whsec_` + base64 of the key bytes). Its description hides the key.
public struct WebhookSecret: Sendable, Hashable, CustomStringConvertible {
    /// The raw key bytes.
    let key: [UInt8]
    /// HMAC's inner and outer padded keys (RFC 2104 §2: the key, hashed when longer than SHA-256's 64-byte block,
    /// zero-filled to it, XORed with 0x36 and 0x5C), made once instead of on every signature.
    let innerPad: [UInt8]
    let outerPad: [UInt8]

    /// Parses `whsec_<base64>` (the prefix is optional); nil when the base64 is invalid or empty.
    public init?(_ text: String) {
        let encoded = text.hasPrefix("whsec_") ? String(text.dropFirst(6)) : text
        guard let data = Data(base64Encoded: encoded), !data.isEmpty else { return nil }
        key = Array(data)
        var block = key.count > 64 ? Array(SHA256.hash(data: key)) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        innerPad = block.map { $0 ^ 0x36 }
        outerPad = block.map { $0 ^ 0x5C }
    }

    /// Never the key.
    public var description: String { "whsec_…(\(key.count) bytes)" }
}

/// Signs webhook deliveries per the Standard Webhooks spec.
public enum WebhookSigner {
    /// `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`.
    public static func signature(id: String, timestamp: Int64, body: [UInt8], secret: WebhookSecret) -> String {
        // HMAC(K, m) = H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)), with the padded keys precomputed; m is fed in pieces.
        var inner = SHA256()
        secret.innerPad.withUnsafeBytes { inner.update(bufferPointer: $0) }
        var prefix = id
        prefix += "."
        prefix += String(timestamp)
        prefix += "."
        prefix.withUTF8 { inner.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        body.withUnsafeBytes { inner.update(bufferPointer: $0) }
        var outer = SHA256()
        secret.outerPad.withUnsafeBytes { outer.update(bufferPointer: $0) }
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return "v1," + Data(outer.finalize()).base64EncodedString()
    }

    /// The `webhook-signature` value: one space-separated signature per secret (for rotation).
    public static func signatureHeader(id: String, timestamp: Int64, body: [UInt8], secrets: [WebhookSecret]) -> String {
        secrets.map { signature(id: id, timestamp: timestamp, body: body, secret: $0) }.joined(separator: " ")
    }

    /// The three Standard Webhooks headers plus the JSON content type.
    public static func headers(id: String, timestamp: Int64, body: [UInt8], secrets: [WebhookSecret]) -> [HeaderField] {
        [
            HeaderField("Content-Type", "application/json"),
            HeaderField("webhook-id", id),
            HeaderField("webhook-timestamp", String(timestamp)),
            HeaderField("webhook-signature", signatureHeader(id: id, timestamp: timestamp, body: body, secrets: secrets)),
        ]
    }
}
