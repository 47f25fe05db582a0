/// A validated `herald.yaml` (docs/campaigns.md): an immutable snapshot; reload builds a new one and swaps it.
///
/// Every path is absolute or resolved against the config file's directory; `*_file` values have
/// `${VAR}` expanded. Secret files are checked for readability only, never read into the snapshot.
public struct HeraldConfig: Sendable {
    /// The config file's path as given.
    public let file: String
    /// The directory relative paths were resolved against.
    public let baseDirectory: String
    /// Where the audience and ledger live.
    public let store: StoreConfig
    /// The folder of campaign `*.yaml` files.
    public let campaignsDirectory: String
    /// The folder of file-based message bodies, if configured.
    public let templatesDirectory: String?
    /// The HTTP API.
    public let api: APIConfig
    /// Lifecycle and RFM thresholds.
    public let lifecycle: LifecycleThresholds
    /// The custom attribute schema.
    public let attributes: AttributeSchema
    /// Named segments in file order, with their positions in the config file.
    public let segments: [SegmentSource]
    /// The compiled named segments, for `in_segment(name)`.
    public let catalog: SegmentCatalog
    /// Caps, quiet hours and the default time zone.
    public let policy: PolicyConfig
    /// Providers and the outbox.
    public let channels: ChannelsConfig
    /// What ingestion accepts (event timestamp skew).
    public let ingest: IngestConfig
    /// The declared subscription topics (`topics:`); campaigns and preferences may name no other.
    public let topics: [Topic]

    /// Builds a snapshot from already-validated parts.
    public init(
        file: String, baseDirectory: String, store: StoreConfig, campaignsDirectory: String,
        templatesDirectory: String?, api: APIConfig, lifecycle: LifecycleThresholds,
        attributes: AttributeSchema, segments: [SegmentSource], catalog: SegmentCatalog,
        policy: PolicyConfig, channels: ChannelsConfig, ingest: IngestConfig = IngestConfig(),
        topics: [Topic] = []
    ) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.store = store
        self.campaignsDirectory = campaignsDirectory
        self.templatesDirectory = templatesDirectory
        self.api = api
        self.lifecycle = lifecycle
        self.attributes = attributes
        self.segments = segments
        self.catalog = catalog
        self.policy = policy
        self.channels = channels
        self.ingest = ingest
        self.topics = topics
    }

    /// The names a template may use: reserved profile fields, declared attributes, and message context.
    public var templateFields: Set<String> {
        Set(ReservedField.allCases.map(\.rawValue)).union(attributes.names).union(Self.messageContextFields)
    }

    /// Names every message can render besides profile fields.
    public static let messageContextFields: Set<String> = ["user_id", "unsubscribe_url", "campaign_id", "variant"]
}

/// The audience store: exactly one of SQLite or PostgreSQL.
public enum StoreConfig: Sendable, Hashable {
    /// An embedded SQLite database at this path.
    case sqlite(path: String)
    /// A PostgreSQL URL (may hold credentials: never log it unmasked).
    case postgres(url: String)
}

/// The HTTP API section.
public struct APIConfig: Sendable, Hashable {
    /// The address to bind.
    public var host: String
    /// The port to bind.
    public var port: Int
    /// The file holding the bearer token, if any.
    public var tokenFile: String?
    /// The public base URL of unsubscribe and tracking links.
    public var publicURL: String?
    /// The file holding the link-signing key (at least 32 bytes); nil means `signing.key` beside the SQLite store.
    public var signingKeyFile: String?

    /// An API section; the default listens on 127.0.0.1:8025.
    public init(host: String = "127.0.0.1", port: Int = 8025, tokenFile: String? = nil, publicURL: String? = nil,
                signingKeyFile: String? = nil) {
        self.host = host
        self.port = port
        self.tokenFile = tokenFile
        self.publicURL = publicURL
        self.signingKeyFile = signingKeyFile
    }
}

/// Frequency caps, quiet hours and the default time zone.
public struct PolicyConfig: Sendable, Hashable {
    /// Rolling-window caps per recipient.
    public var caps: [CapRule]
    /// Scale caps to each user's engagement (docs/segments.md#engagement).
    public var adaptiveCaps: Bool
    /// Hours during which sends are deferred, if configured.
    public var quietHours: QuietHours?
    /// The zone for users whose own zone is missing or invalid.
    public var defaultTimezone: String

    /// A policy; the default has no caps, no quiet hours and UTC.
    public init(caps: [CapRule] = [], adaptiveCaps: Bool = false, quietHours: QuietHours? = nil,
                defaultTimezone: String = "UTC") {
        self.caps = caps
        self.adaptiveCaps = adaptiveCaps
        self.quietHours = quietHours
        self.defaultTimezone = defaultTimezone
    }
}

/// One cap: at most `max` non-transactional sends per `per` seconds, on a channel or a topic.
public struct CapRule: Sendable, Hashable {
    /// What a cap counts.
    public enum Scope: Sendable, Hashable {
        /// All channels.
        case anyChannel
        /// One channel.
        case channel(ChannelKind)
        /// One subscription topic.
        case topic(String)
    }

    /// What the cap counts.
    public var scope: Scope
    /// Sends allowed in the window.
    public var max: Int
    /// The rolling window, seconds.
    public var per: Int64

    /// A cap rule.
    public init(scope: Scope, max: Int, per: Int64) {
        self.scope = scope
        self.max = max
        self.per = per
    }

    /// The rule's name in suppression reasons (`cap:<label>`), e.g. `any/7d`, `sms/1d`, `topic=promotions/7d`.
    public var label: String {
        let what: String
        switch scope {
        case .anyChannel: what = "any"
        case .channel(let c): what = c.rawValue
        case .topic(let t): what = "topic=\(t)"
        }
        return "\(what)/\(DurationSpec.format(per))"
    }
}

/// Quiet hours in the recipient's local time; `from > to` wraps past midnight.
public struct QuietHours: Sendable, Hashable {
    /// Start of the quiet period.
    public var from: ClockTime
    /// End of the quiet period.
    public var to: ClockTime
    /// The channels it applies to.
    public var channels: [ChannelKind]

    /// Quiet hours.
    public init(from: ClockTime, to: ClockTime, channels: [ChannelKind]) {
        self.from = from
        self.to = to
        self.channels = channels
    }

    /// True when the local time `t` is inside the quiet period.
    public func contains(_ t: ClockTime) -> Bool {
        from <= to ? (t >= from && t < to) : (t >= from || t < to)
    }
}
