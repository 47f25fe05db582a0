import Crypto
import Foundation

/// A Standard Webhooks signing secret (`whsec_` + base64 of the key bytes). Its description hides the key.
public struct WebhookSecret: Sendable, Hashable, CustomStringConvertible {
    /// The raw key bytes.
    let key: [UInt8]

    /// Parses `whsec_<base64>` (the prefix is optional); nil when the base64 is invalid or empty.
    public init?(_ text: String) {
        let encoded = text.hasPrefix("whsec_") ? String(text.dropFirst(6)) : text
        guard let data = Data(base64Encoded: encoded), !data.isEmpty else { return nil }
        key = Array(data)
    }

    /// Never the key.
    public var description: String { "whsec_…(\(key.count) bytes)" }
}

/// Signs webhook deliveries per the Standard Webhooks spec.
public enum WebhookSigner {
    /// `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`.
    public static func signature(id: String, timestamp: Int64, body: [UInt8], secret: WebhookSecret) -> String {
        var content = Array("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: secret.key))
        return "v1," + Data(mac).base64EncodedString()
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
