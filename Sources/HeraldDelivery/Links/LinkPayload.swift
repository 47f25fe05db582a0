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

    /// A payload.
    public init(
        kind: Kind, user: String, campaign: String, topic: String? = nil, key: String? = nil,
        url: String? = nil
    ) {
        self.kind = kind
        self.user = user
        self.campaign = campaign
        self.topic = topic
        self.key = key
        self.url = url
    }
}

extension LinkPayload {
    /// The compact binary form: the kind byte, then user and campaign as length-prefixed UTF-8,
    /// then topic, key and url each as 0 (absent) or length+1 followed by the bytes.
    /// Lengths are LEB128 varints, so any text round-trips without escaping.
    var encoded: [UInt8] {
        var out: [UInt8] = [UInt8(ascii: kind.rawValue.unicodeScalars.first!)]
        func varint(_ n: Int) {
            var v = UInt(n)
            while v >= 0x80 {
                out.append(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            out.append(UInt8(v))
        }
        for s in [user, campaign] {
            varint(s.utf8.count)
            out.append(contentsOf: s.utf8)
        }
        for s in [topic, key, url] {
            guard let s else {
                varint(0)
                continue
            }
            varint(s.utf8.count + 1)
            out.append(contentsOf: s.utf8)
        }
        return out
    }

    /// Decodes `encoded`; nil for an unknown kind, a short or overlong field, invalid UTF-8 or trailing bytes.
    init?(decoding bytes: [UInt8]) {
        var i = 0
        func varint() -> Int? {
            var v = 0
            var shift = 0
            while i < bytes.count, shift < 28 {
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
        guard let first = bytes.first, let kind = Kind(rawValue: String(UnicodeScalar(first))) else {
            return nil
        }
        i = 1
        guard let userLength = varint(), let user = text(userLength),
            let campaignLength = varint(), let campaign = text(campaignLength),
            let topic = optional(), let key = optional(), let url = optional(), i == bytes.count
        else { return nil }
        self.init(kind: kind, user: user, campaign: campaign, topic: topic, key: key, url: url)
    }
}
