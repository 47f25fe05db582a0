/// What a signed link (unsubscribe, open pixel, click, delivery report) refers to.
public struct LinkPayload: Sendable, Hashable {
    /// What the link does; the raw value is the byte that starts the encoded payload.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// One-click unsubscribe (`/u/{token}`).
        case unsubscribe = "u"
        /// Open-tracking pixel (`/o/{token}`).
        case open = "o"
        /// Click-tracking redirect (`/c/{token}`).
        case click = "c"
        /// Delivery report callback (`/dlr/{provider}?t={token}`).
        case dlr = "d"
    }

    /// What the link does.
    public var kind: Kind
    /// The recipient's user id.
    public var user: String
    /// The campaign that sent the message.
    public var campaign: String
    /// The campaign's subscription topic, if any (unsubscribe opts out of it).
    public var topic: String?
    /// The ledger idempotency key of the message.
    public var key: String?
    /// The click target.
    public var url: String?
    /// When the link stops being accepted, epoch seconds; nil for links that never expire (unsubscribe,
    /// open and click links must work for as long as the message sits in a mailbox).
    public var expiresAt: Int64?

    /// How long a delivery-report token is accepted after the send: gateways report within minutes or
    /// hours, so a week covers every genuine report and bounds how long a leaked dlr-url can be replayed.
    public static let deliveryReportLifetime: Int64 = 7 * 86_400

    /// A payload.
    public init(
        kind: Kind, user: String, campaign: String, topic: String? = nil, key: String? = nil,
        url: String? = nil, expiresAt: Int64? = nil
    ) {
        self.kind = kind
        self.user = user
        self.campaign = campaign
        self.topic = topic
        self.key = key
        self.url = url
        self.expiresAt = expiresAt
    }

    /// The delivery-report payload for the ledger row `key`, accepted until `now + lifetime`.
    public static func deliveryReport(key: String, now: Int64, lifetime: Int64 = deliveryReportLifetime)
        -> LinkPayload
    {
        LinkPayload(kind: .dlr, user: "", campaign: "", key: key, expiresAt: now + max(0, lifetime))
    }
}

extension LinkPayload {
    /// The compact binary form: the kind byte, then user and campaign as length-prefixed UTF-8,
    /// then topic, key and url each as 0 (absent) or length+1 followed by the bytes. A payload that expires
    /// has its kind byte in upper case and ends with the expiry in epoch seconds; one that does not keeps the
    /// encoding links always had. Lengths and the expiry are LEB128 varints, so any text round-trips
    /// without escaping.
    var encoded: [UInt8] {
        let kindByte = UInt8(ascii: kind.rawValue.unicodeScalars.first!)
        var out: [UInt8] = [expiresAt == nil ? kindByte : kindByte - 0x20]
        func varint(_ n: Int64) {
            var v = UInt64(max(0, n))
            while v >= 0x80 {
                out.append(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            out.append(UInt8(v))
        }
        for s in [user, campaign] {
            varint(Int64(s.utf8.count))
            out.append(contentsOf: s.utf8)
        }
        for s in [topic, key, url] {
            guard let s else {
                varint(0)
                continue
            }
            varint(Int64(s.utf8.count + 1))
            out.append(contentsOf: s.utf8)
        }
        if let expiresAt { varint(expiresAt) }
        return out
    }

    /// Decodes `encoded`; nil for an unknown kind, a short or overlong field, invalid UTF-8 or trailing bytes.
    init?(decoding bytes: [UInt8]) {
        var i = 0
        // Lengths stay under 2^28; an expiry may use up to 9 groups (63 bits).
        func varint(groups: Int = 4) -> Int? {
            var v = 0
            var shift = 0
            while i < bytes.count, shift < 7 * groups {
                let b = bytes[i]
                i += 1
                v |= Int(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
            return nil
        }
        func text(_ count: Int) -> String? {
            guard count >= 0, count <= bytes.count - i else { return nil }
            let slice = bytes[i..<(i + count)]
            i += count
            return String(validating: slice, as: UTF8.self)
        }
        func optional() -> String?? {
            guard let n = varint() else { return nil }
            return n == 0 ? .some(nil) : text(n - 1).map { .some($0) }
        }
        // An upper-case kind byte says an expiry follows the fields.
        guard let first = bytes.first else { return nil }
        let expires = (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first)
        guard let kind = Kind(rawValue: String(UnicodeScalar(expires ? first + 0x20 : first))) else {
            return nil
        }
        i = 1
        guard let userLength = varint(), let user = text(userLength),
            let campaignLength = varint(), let campaign = text(campaignLength),
            let topic = optional(), let key = optional(), let url = optional()
        else { return nil }
        var expiresAt: Int64?
        if expires {
            guard let e = varint(groups: 9) else { return nil }
            expiresAt = Int64(e)
        }
        guard i == bytes.count else { return nil }
        self.init(kind: kind, user: user, campaign: campaign, topic: topic, key: key, url: url, expiresAt: expiresAt)
    }
}
