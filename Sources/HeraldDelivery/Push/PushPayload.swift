import Crypto

/// The bytes each provider receives for a push, their size limits, and the ids derived from the ledger key
/// (docs/push.md).
public enum PushPayload {
    /// The data field that carries the ledger key, so the app can report an open.
    public static let keyField = "herald_key"
    /// APNs: the largest JSON payload of an alert or background push.
    public static let apnsLimit = 4096
    /// FCM: the largest total of data keys and values plus notification title and body.
    public static let fcmLimit = 4096
    /// Web Push: the largest encrypted body a push service must accept.
    public static let webPushRecordLimit = 4096
    /// Web Push: the largest plaintext that fits `webPushRecordLimit` once encrypted (one aes128gcm record: an
    /// 86-byte header, a 1-byte padding delimiter and a 16-byte tag).
    public static let webPushPlaintextLimit = webPushRecordLimit - WebPushEncryption.overhead
    /// The longest TTL any of the three keeps a message: four weeks.
    public static let maxTTL = 28 * 24 * 3600

    /// The size of a push's payload for `provider`, measured as the provider measures it, without sending.
    public static func size(of content: PushContent, key: String, for provider: PushProvider) -> PushPayloadSize {
        switch provider {
        case .apns: PushPayloadSize(provider: .apns, bytes: apns(content, key: key).bytes.count, limit: apnsLimit)
        case .fcm: PushPayloadSize(provider: .fcm, bytes: fcmCountedBytes(content, key: key), limit: fcmLimit)
        case .webPush:
            PushPayloadSize(provider: .webPush, bytes: webPush(content, key: key).bytes.count, limit: webPushPlaintextLimit)
        }
    }

    // MARK: APNs

    /// The APNs JSON payload: `aps` (alert title and body, badge, sound; `content-available` for a silent push),
    /// then the data as top-level string fields, `herald_key` among them.
    static func apns(_ content: PushContent, key: String) -> PushJSON {
        var aps: [(String, PushJSON)] = []
        if content.isAlert {
            var alert: [(String, PushJSON)] = []
            if let title = content.title, !title.isEmpty { alert.append(("title", .string(title))) }
            if let body = content.body, !body.isEmpty { alert.append(("body", .string(body))) }
            aps.append(("alert", .object(alert)))
        } else {
            aps.append(("content-available", .int(1)))
        }
        if let badge = content.badge { aps.append(("badge", .int(badge))) }
        if let sound = content.sound, !sound.isEmpty { aps.append(("sound", .string(sound))) }
        let data = content.data(withKey: key).filter { $0.key != "aps" }.sorted { $0.key < $1.key }
        return .object([("aps", .object(aps))] + data.map { ($0.key, .string($0.value)) })
    }

    /// The APNs payload bytes, or `payload_too_large`/`permanent` when APNs would refuse them.
    static func apnsBody(_ content: PushContent, key: String) throws(PushError) -> [UInt8] {
        if content.data["aps"] != nil {
            throw PushError(.permanent, provider: .apns, reason: "reserved_data_key", "the data key 'aps' is reserved by APNs")
        }
        let body = apns(content, key: key).bytes
        try checkLimit(body.count, apnsLimit, .apns)
        return body
    }

    /// `apns-collapse-id`: the campaign's collapse id when it fits APNs' 64 bytes, else its SHA-256 in hex (64
    /// characters), so long ids still collapse with each other.
    public static func apnsCollapseID(_ id: String) -> String {
        id.utf8.count <= 64 ? id : hex(SHA256.hash(data: Array(id.utf8)))
    }

    /// `apns-id`: a UUID made from the SHA-256 of the ledger key and the device token, so a retry of the same push
    /// to the same device carries the same id (RFC 9562 version 8, uppercase as APNs writes them).
    public static func apnsID(key: String, deviceToken: String) -> String {
        var bytes = Array(SHA256.hash(data: Array("herald-apns-id\n\(key)\n\(deviceToken)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80  // version 8: custom
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // the RFC 4122/9562 variant
        let h = hex(bytes).uppercased()
        let c = Array(h)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-"
            + String(c[20..<32])
    }

    // MARK: FCM

    /// Data keys FCM refuses (it keeps them for itself).
    static func fcmReservedKey(_ key: String) -> Bool {
        let lower = key.lowercased()
        return ["from", "notification", "message_type"].contains(lower) || lower.hasPrefix("google")
            || lower.hasPrefix("gcm")
    }

    /// What FCM counts against its limit: data keys and values plus the notification's title and body, in bytes.
    static func fcmCountedBytes(_ content: PushContent, key: String) -> Int {
        content.data(withKey: key).reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
            + (content.isAlert ? (content.title ?? "").utf8.count + (content.body ?? "").utf8.count : 0)
    }

    /// The `messages:send` body for `token`: notification, data (strings, `herald_key` among them), and the
    /// android, apns and webpush blocks carrying collapse key, TTL and priority; `now` dates `apns-expiration`.
    static func fcmBody(_ content: PushContent, key: String, token: String, now: Double) throws(PushError) -> [UInt8] {
        if let reserved = content.data.keys.sorted().first(where: fcmReservedKey) {
            throw PushError(.permanent, provider: .fcm, reason: "reserved_data_key",
                            "the data key '\(reserved)' is reserved by FCM")
        }
        try checkLimit(fcmCountedBytes(content, key: key), fcmLimit, .fcm)
        let high = content.priority == .high
        let ttl = content.ttl.map { min(max($0, 0), maxTTL) }
        var message: [(String, PushJSON)] = [("token", .string(token))]
        if content.isAlert {
            var notification: [(String, PushJSON)] = []
            if let title = content.title, !title.isEmpty { notification.append(("title", .string(title))) }
            if let body = content.body, !body.isEmpty { notification.append(("body", .string(body))) }
            message.append(("notification", .object(notification)))
        }
        message.append(("data", .strings(content.data(withKey: key))))
        var android: [(String, PushJSON)] = [("priority", .string(high ? "HIGH" : "NORMAL"))]
        if let collapse = content.collapseID { android.append(("collapse_key", .string(collapse))) }
        if let ttl { android.append(("ttl", .string("\(ttl)s"))) }
        var androidNotification: [(String, PushJSON)] = []
        if let sound = content.sound, !sound.isEmpty { androidNotification.append(("sound", .string(sound))) }
        if let badge = content.badge { androidNotification.append(("notification_count", .int(badge))) }
        if content.isAlert && !androidNotification.isEmpty { android.append(("notification", .object(androidNotification))) }
        message.append(("android", .object(android)))
        var apnsHeaders: [(String, PushJSON)] = [("apns-priority", .string(high && content.isAlert ? "10" : "5"))]
        if let collapse = content.collapseID { apnsHeaders.append(("apns-collapse-id", .string(apnsCollapseID(collapse)))) }
        if let ttl { apnsHeaders.append(("apns-expiration", .string(ttl == 0 ? "0" : String(Int(now) + ttl)))) }
        var aps: [(String, PushJSON)] = content.isAlert ? [] : [("content-available", .int(1))]
        if let badge = content.badge { aps.append(("badge", .int(badge))) }
        if let sound = content.sound, !sound.isEmpty { aps.append(("sound", .string(sound))) }
        message.append(("apns", .object([("headers", .object(apnsHeaders)), ("payload", .object([("aps", .object(aps))]))])))
        message.append(("webpush", .object([("headers", .object(webPushHeaders(content).map { ($0.name, .string($0.value)) }))])))
        return PushJSON.object([("message", .object(message)), ("validate_only", .bool(false))]).bytes
    }

    // MARK: Web Push

    /// The Web Push plaintext, for the site's service worker: title, body, badge, sound, tag (the collapse id)
    /// and data (strings, `herald_key` among them).
    static func webPush(_ content: PushContent, key: String) -> PushJSON {
        var members: [(String, PushJSON)] = []
        if let title = content.title { members.append(("title", .string(title))) }
        if let body = content.body { members.append(("body", .string(body))) }
        if let badge = content.badge { members.append(("badge", .int(badge))) }
        if let sound = content.sound { members.append(("sound", .string(sound))) }
        if let collapse = content.collapseID { members.append(("tag", .string(collapse))) }
        members.append(("data", .strings(content.data(withKey: key))))
        return .object(members)
    }

    /// The Web Push plaintext bytes, or `payload_too_large` when they would not fit one 4096-byte record.
    static func webPushPlaintext(_ content: PushContent, key: String) throws(PushError) -> [UInt8] {
        let plaintext = webPush(content, key: key).bytes
        try checkLimit(plaintext.count, webPushPlaintextLimit, .webPush)
        return plaintext
    }

    /// `TTL` (required; four weeks when the campaign gives none), `Urgency` and `Topic`.
    static func webPushHeaders(_ content: PushContent) -> [HeaderField] {
        var headers = [HeaderField("TTL", String(min(max(content.ttl ?? maxTTL, 0), maxTTL))),
                       HeaderField("Urgency", content.priority == .high ? "high" : "normal")]
        if let collapse = content.collapseID { headers.append(HeaderField("Topic", webPushTopic(collapse))) }
        return headers
    }

    /// `Topic`: the collapse id when it is 1 to 32 URL-safe base64 characters, else the first 32 characters of
    /// the base64url SHA-256 of it (still the same for the same collapse id).
    public static func webPushTopic(_ id: String) -> String {
        let safe = id.utf8.allSatisfy { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        if safe && (1...32).contains(id.utf8.count) { return id }
        return String(Base64URL.encode(Array(SHA256.hash(data: Array(id.utf8)))).prefix(32))
    }

    // MARK: Shared

    private static func checkLimit(_ bytes: Int, _ limit: Int, _ provider: PushProvider) throws(PushError) {
        guard bytes > limit else { return }
        throw PushError(.payloadTooLarge(bytes: bytes, limit: limit), provider: provider, reason: "payload_too_large",
                        "the payload is \(bytes) bytes; \(provider) takes at most \(limit)")
    }

    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes { out += [digits[Int(byte >> 4)], digits[Int(byte & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }
}

/// How big a push's payload is for one provider, against that provider's limit.
public struct PushPayloadSize: Sendable, Hashable {
    /// The provider measured for.
    public var provider: PushProvider
    /// The bytes the provider counts.
    public var bytes: Int
    /// The most it takes.
    public var limit: Int

    /// A measurement.
    public init(provider: PushProvider, bytes: Int, limit: Int) {
        self.provider = provider
        self.bytes = bytes
        self.limit = limit
    }

    /// True when the provider takes it; false means a permanent `payload_too_large`.
    public var fits: Bool { bytes <= limit }
}
