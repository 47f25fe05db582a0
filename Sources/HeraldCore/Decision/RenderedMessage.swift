/// A message rendered for one recipient: what dry-run shows as a sample and the daemon will send.
public struct RenderedMessage: Sendable, Hashable {
    /// The channel.
    public var channel: ChannelKind
    /// Email subject.
    public var subject: String?
    /// Email text part, or the SMS text.
    public var text: String?
    /// Email HTML part.
    public var html: String?
    /// Webhook JSON body.
    public var json: String?
    /// SMS coding and segments, for SMS (the same count the send reports).
    public var sms: SMSEncoding?
    /// The push, for push.
    public var push: RenderedPush?

    /// Renders `campaign`'s message (the variant's when it overrides) on `channel` for `facts`.
    /// Missing fields render empty unless the template gives a `{{name|fallback}}`. `unsubscribeURL` is this
    /// recipient's signed one-click link (the daemon and send-test sign it; dry-run shows a preview link).
    public static func render(
        campaign: Campaign, variant: String?, channel: ChannelKind, facts: UserFacts, unsubscribeURL: String?
    ) -> RenderedMessage {
        let message = campaign.message(forVariant: variant)
        let lookup = fieldLookup(
            campaign: campaign, variant: variant, facts: facts, unsubscribeURL: unsubscribeURL)
        var out = RenderedMessage(channel: channel)
        switch channel {
        case .email:
            if let e = message.email {
                out.subject = e.subject.render(lookup)
                out.text = e.text?.render(lookup)
                out.html = e.html?.render(html: true, lookup)
            }
        case .sms:
            if let t = message.sms?.render(lookup) {
                out.text = t
                out.sms = SMSEncoding(t)
            }
        case .webhook:
            if let w = message.webhook { out.json = json(w.body, lookup) }
        case .push:
            if let p = message.push { out.push = RenderedPush.render(p, lookup) }
        }
        return out
    }

    /// The values templates see: profile fields, attributes and the message context fields.
    public static func fieldLookup(
        campaign: Campaign, variant: String?, facts: UserFacts, unsubscribeURL: String?
    ) -> @Sendable (String) -> Value? {
        let p = facts.profile
        return { name in
            switch name {
            case "id", "user_id": return .string(p.id)
            case "email": return p.email.map(Value.string)
            case "phone": return p.phone.map(Value.string)
            case "timezone": return p.timezone.map(Value.string)
            case "locale": return p.locale.map(Value.string)
            case "created_at": return p.createdAt.map(Value.timestamp)
            case "birthday": return p.birthday.map { .string($0.description) }
            case "last_seen_at": return p.lastSeenAt.map(Value.timestamp)
            case "campaign_id": return .string(campaign.id)
            case "variant": return variant.map(Value.string)
            case "unsubscribe_url": return unsubscribeURL.map(Value.string)
            default: return p.attributes[name]
            }
        }
    }

    /// A webhook body as JSON text, string leaves rendered.
    static func json(_ v: Campaign.BodyValue, _ lookup: (String) -> Value?) -> String {
        switch v {
        case .template(let t): return quote(t.render(lookup))
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .list(let items): return "[" + items.map { json($0, lookup) }.joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.map { quote($0.key) + ":" + json($0.value, lookup) }.joined(separator: ",")
                + "}"
        }
    }

    /// A JSON string literal.
    static func quote(_ s: String) -> String { JSONString.quote(s) }
}
