/// One user's stored profile: the reserved fields of docs/delivery.md#import-formats and typed custom attributes.
public struct UserProfile: Sendable, Hashable {
    /// The user's id, unique in the audience.
    public var id: String
    /// Email address as imported (validated when used).
    public var email: String?
    /// Phone number as imported (E.164 checked when used).
    public var phone: String?
    /// IANA time zone name as imported (may be invalid; the default applies then).
    public var timezone: String?
    /// Locale, e.g. `zh-CN`.
    public var locale: String?
    /// Epoch seconds when the user was created.
    public var createdAt: Int64?
    /// Birthday (a date without a zone).
    public var birthday: CivilDate?
    /// An imported last-seen time, epoch seconds (events also move "seen", see `UserFacts`).
    public var lastSeenAt: Int64?
    /// Custom attributes by name, each of its declared type.
    public var attributes: [String: Value]
    /// Active push devices registered for the user (kept by the store with the device registry).
    public var pushDevices: Int = 0

    /// A profile with only an id.
    public init(
        id: String, email: String? = nil, phone: String? = nil, timezone: String? = nil,
        locale: String? = nil, createdAt: Int64? = nil, birthday: CivilDate? = nil,
        lastSeenAt: Int64? = nil, attributes: [String: Value] = [:]
    ) {
        self.id = id
        self.email = email
        self.phone = phone
        self.timezone = timezone
        self.locale = locale
        self.createdAt = createdAt
        self.birthday = birthday
        self.lastSeenAt = lastSeenAt
        self.attributes = attributes
    }
}

/// The timestamps (epoch seconds, ascending) of one user's events of one name, with numeric properties.
public struct EventSeries: Sendable, Hashable {
    /// Ascending epoch seconds.
    public var timestamps: [Int64]
    /// Numeric property values aligned with `timestamps`; NaN where the event lacks the property.
    public var numbers: [String: [Double]]

    /// A series; `timestamps` must be ascending and every `numbers` array as long.
    public init(timestamps: [Int64] = [], numbers: [String: [Double]] = [:]) {
        self.timestamps = timestamps
        self.numbers = numbers
    }
}

/// Everything the segment language needs to evaluate one user (the single-user, event-path evaluator).
public struct UserFacts: Sendable, Hashable {
    /// The profile.
    public var profile: UserProfile
    /// Events by name.
    public var events: [String: EventSeries]
    /// Every event's timestamp, any name, ascending (for `last_seen_at` and `lifecycle`).
    public var allEventTimes: [Int64]
    /// The ledger's `Engagement.ratio` at the evaluation time, or nil when nothing was sent in its window (the
    /// stores leave it nil: whoever evaluates sets it from `DispatchLedger.engagement`).
    public var engagement: Double?
    /// The last time each campaign sent to the user (campaign id → epoch seconds), for `received()`; filled
    /// by planning from the ledger for the campaigns a segment names.
    public var received: [String: Int64] = [:]

    /// Facts for one user.
    public init(
        profile: UserProfile, events: [String: EventSeries] = [:], allEventTimes: [Int64] = [],
        engagement: Double? = nil
    ) {
        self.profile = profile
        self.events = events
        self.allEventTimes = allEventTimes
        self.engagement = engagement
    }
}
