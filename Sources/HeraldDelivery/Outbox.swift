import Foundation
import HeraldCore

/// The transport for channels without a provider: writes each message to a folder as a file
/// (`.eml` for email, `.json` for SMS and webhooks), so a fresh install shows real messages.
public struct Outbox: Sendable {
    /// The folder written to.
    public let directory: String

    /// An outbox in `directory` (created on first write).
    public init(directory: String) { self.directory = directory }

    /// Writes `bytes` as `<key>.<ext>` atomically and returns the path; the key is made file-name safe.
    @discardableResult
    public func write(key: String, ext: String, bytes: [UInt8]) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let safe = String(key.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "_" })
        let path = directory + "/" + safe + "." + ext
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        return path
    }

    /// Writes an email as a `.eml` file.
    @discardableResult
    public func write(_ message: EmailMessage) throws -> String {
        try write(key: message.idempotencyKey, ext: "eml", bytes: try MIMEBuilder.build(message))
    }

    /// Writes an SMS as a `.json` file.
    @discardableResult
    public func write(_ message: SMSMessage, from: String?) throws -> String {
        let encoding = SMSEncoding(message.text)
        let object: [String: Any] = [
            "channel": "sms", "id": message.idempotencyKey, "to": message.to.e164, "from": from ?? NSNull(),
            "text": message.text, "coding": encoding.coding == .gsm7 ? "gsm7" : "ucs2", "segments": encoding.segments,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        return try write(key: message.idempotencyKey, ext: "json", bytes: Array(data))
    }

    /// Writes a webhook delivery (endpoint name, id and JSON body) as a `.json` file.
    @discardableResult
    public func writeWebhook(endpoint: String, id: String, body: [UInt8]) throws -> String {
        let parsed = (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) ?? NSNull()
        let object: [String: Any] = ["channel": "webhook", "endpoint": endpoint, "webhook-id": id, "body": parsed]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        return try write(key: id, ext: "json", bytes: Array(data))
    }
}
