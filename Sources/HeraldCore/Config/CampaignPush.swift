import Yams

extension Campaign {
    /// `message.push`: what a push says (docs/push.md). Every field is optional so a variant can override one;
    /// a campaign's push needs a title, a body or data.
    public struct PushBody: Sendable, Hashable {
        /// The alert title.
        public var title: MessageTemplate?
        /// The alert text.
        public var body: MessageTemplate?
        /// String values handed to the app, in file order.
        public var data: [PushDataField]?
        /// The app icon's badge number.
        public var badge: Int?
        /// The sound to play.
        public var sound: String?
        /// Pushes with the same collapse id replace each other (≤ 64 bytes).
        public var collapseID: String?
        /// How long the provider may keep trying, seconds.
        public var ttl: Int64?
        /// `priority: high` (the default) or `normal`.
        public var highPriority: Bool?

        /// A push body.
        public init(title: MessageTemplate? = nil, body: MessageTemplate? = nil, data: [PushDataField]? = nil,
                    badge: Int? = nil, sound: String? = nil, collapseID: String? = nil, ttl: Int64? = nil,
                    highPriority: Bool? = nil) {
            self.title = title
            self.body = body
            self.data = data
            self.badge = badge
            self.sound = sound
            self.collapseID = collapseID
            self.ttl = ttl
            self.highPriority = highPriority
        }

        /// `self` with every field `o` sets replaced (a variant's override).
        public func overlaid(_ o: PushBody) -> PushBody {
            PushBody(title: o.title ?? title, body: o.body ?? body, data: o.data ?? data, badge: o.badge ?? badge,
                     sound: o.sound ?? sound, collapseID: o.collapseID ?? collapseID, ttl: o.ttl ?? ttl,
                     highPriority: o.highPriority ?? highPriority)
        }

        /// True when the push says something: a title, a body or data.
        public var isComplete: Bool { title != nil || body != nil || !(data ?? []).isEmpty }
    }

    /// One `data:` entry of a push.
    public struct PushDataField: Sendable, Hashable {
        /// The key the app reads.
        public var key: String
        /// Its value, rendered per user.
        public var value: MessageTemplate

        /// A data entry.
        public init(key: String, value: MessageTemplate) {
            self.key = key
            self.value = value
        }
    }
}

/// A push rendered for one user (the same for each of their devices).
public struct RenderedPush: Sendable, Hashable {
    /// The alert title.
    public var title: String?
    /// The alert text.
    public var body: String?
    /// String values for the app (`herald_key` is added when sent).
    public var data: [String: String]
    /// Badge number.
    public var badge: Int?
    /// Sound.
    public var sound: String?
    /// Collapse id.
    public var collapseID: String?
    /// Provider retention, seconds.
    public var ttl: Int64?
    /// High (wake the device) or normal priority.
    public var highPriority: Bool

    /// A rendered push.
    public init(title: String? = nil, body: String? = nil, data: [String: String] = [:], badge: Int? = nil,
                sound: String? = nil, collapseID: String? = nil, ttl: Int64? = nil, highPriority: Bool = true) {
        self.title = title
        self.body = body
        self.data = data
        self.badge = badge
        self.sound = sound
        self.collapseID = collapseID
        self.ttl = ttl
        self.highPriority = highPriority
    }

    /// `body` rendered with `lookup`.
    public static func render(_ body: Campaign.PushBody, _ lookup: (String) -> Value?) -> RenderedPush {
        var data: [String: String] = [:]
        for field in body.data ?? [] { data[field.key] = field.value.render(lookup) }
        return RenderedPush(title: body.title?.render(lookup), body: body.body?.render(lookup), data: data,
                            badge: body.badge, sound: body.sound, collapseID: body.collapseID, ttl: body.ttl,
                            highPriority: body.highPriority ?? true)
    }
}

extension CampaignParser {
    /// `message.push` as written (a variant's may set only some fields).
    func pushBody(_ node: Node?, _ path: String) -> Campaign.PushBody? {
        let known = ["title", "body", "data", "badge", "sound", "collapse_id", "ttl", "priority"]
        guard let m = y.map(node, path, known: known) else { return nil }
        var p = Campaign.PushBody()
        p.title = template(m["title"], "\(path).title")
        p.body = template(m["body"], "\(path).body")
        if let d = m["data"] {
            if case .mapping(let map) = d {
                p.data = map.compactMap { k, v in
                    guard let key = k.scalar?.string else { return nil }
                    if key == "herald_key" {
                        y.report("\(path).data.herald_key: set by Herald (the ledger key the app reports opens with)", node: k)
                        return nil
                    }
                    guard v.scalar != nil, !v.isNullScalar else {
                        y.report("\(path).data.\(key): expected a string value (push data values are strings)", node: v)
                        return nil
                    }
                    return template(v, "\(path).data.\(key)").map { Campaign.PushDataField(key: key, value: $0) }
                }
            } else {
                y.report("\(path).data: expected a mapping of string values, got \(d.described)", node: d)
            }
        }
        p.badge = y.int(m["badge"], "\(path).badge", range: 0...99_999)
        p.sound = y.string(m["sound"], "\(path).sound")
        if let n = m["collapse_id"], let id = y.string(n, "\(path).collapse_id") {
            if id.utf8.count > 64 {
                y.report("\(path).collapse_id: at most 64 bytes (APNs' limit), got \(id.utf8.count)", node: n)
            } else {
                p.collapseID = id
            }
        }
        if let n = m["ttl"], let ttl = y.duration(n, "\(path).ttl") {
            if ttl > 28 * 86_400 {
                y.report("\(path).ttl: at most 28 days (the longest FCM and Web Push keep a message)", node: n)
            } else {
                p.ttl = ttl
            }
        }
        if let n = m["priority"], let text = y.string(n, "\(path).priority") {
            switch text {
            case "high": p.highPriority = true
            case "normal": p.highPriority = false
            default: y.report("\(path).priority: expected high or normal, got '\(text)'", node: n)
            }
        }
        return p
    }
}
