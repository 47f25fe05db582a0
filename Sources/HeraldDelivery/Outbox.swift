import Crypto
import Foundation
import HeraldCore

/// The transport for channels without a provider: writes each message to a folder as a file
/// (`.eml` for email, `.json` for SMS and webhooks), so a fresh install shows real messages.
public struct Outbox: Sendable {
    /// The folder written to.
    public let directory: String

    /// An outbox in `directory` (created on first write).
    public init(directory: String) { self.directory = directory }

    /// Writes `bytes` as `<fileName(key)>.<ext>` atomically and returns the path.
    @discardableResult
    public func write(key: String, ext: String, bytes: [UInt8]) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/" + Self.fileName(key) + "." + ext
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        return path
    }

    /// The file name (without extension) for `key`: distinct keys always get distinct names, so no message
    /// overwrites another's file. Bytes of `[A-Za-z0-9._-]` stay as they are (keys stay readable); every other
    /// byte, `%` itself and a leading `.` become `%XX`, so a name never holds `/`, is never `.`/`..` or hidden,
    /// and decodes back to its key. A name longer than `maxNameBytes` keeps a readable prefix and ends in `~`
    /// and the key's SHA-256 (`~` is always escaped, so such a name cannot equal a plain one). The empty key is
    /// `%`, which no escape produces.
    public static func fileName(_ key: String) -> String {
        guard !key.isEmpty else { return "%" }
        var out: [UInt8] = []
        out.reserveCapacity(key.utf8.count)
        for byte in key.utf8 {
            let plain =
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                || (byte == UInt8(ascii: ".") && !out.isEmpty)
            if plain {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 15)])
            }
        }
        if out.count > maxNameBytes {
            let digest = SHA256.hash(data: Array(key.utf8)).map { String(format: "%02x", $0) }.joined()
            var prefix = Array(out.prefix(maxNameBytes - 65))
            // Never end the prefix inside a %XX escape.
            if let percent = prefix.suffix(2).lastIndex(of: UInt8(ascii: "%")) { prefix.removeSubrange(percent...) }
            out = prefix + Array("~\(digest)".utf8)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The longest name `fileName` makes: with the longest extension (`.json`) it stays well under the
    /// 255-byte limit of common file systems.
    public static let maxNameBytes = 200

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

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
