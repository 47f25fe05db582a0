/// Thresholds for the derived lifecycle stage and RFM (herald.yaml `lifecycle:`), in seconds.
public struct LifecycleThresholds: Sendable, Hashable {
    /// `new` when created within this.
    public var newWithin: Int64
    /// `active` (or `returning`) when seen within this.
    public var activeWithin: Int64
    /// `lapsing` when seen within this; also the gap that makes a user `returning`.
    public var dormantAfter: Int64
    /// `dormant` when seen within this, else `churned`.
    public var churnedAfter: Int64
    /// RFM looks at purchases inside this window.
    public var rfmWindow: Int64

    /// The defaults of docs/campaigns.md: 7d, 7d, 30d, 180d, 365d.
    public init(
        newWithin: Int64 = 7 * 86_400, activeWithin: Int64 = 7 * 86_400,
        dormantAfter: Int64 = 30 * 86_400, churnedAfter: Int64 = 180 * 86_400,
        rfmWindow: Int64 = 365 * 86_400
    ) {
        self.newWithin = newWithin
        self.activeWithin = activeWithin
        self.dormantAfter = dormantAfter
        self.churnedAfter = churnedAfter
        self.rfmWindow = rfmWindow
    }
}

/// The derived lifecycle stages of docs/segments.md.
public enum LifecycleStage: String, Sendable, CaseIterable {
    case new, returning, active, lapsing, dormant, churned
}

/// The fixed inputs of one evaluation: the instant and the thresholds.
public struct EvaluationEnvironment: Sendable, Hashable {
    /// `now`, epoch seconds.
    public var now: Int64
    /// Lifecycle and RFM thresholds.
    public var lifecycle: LifecycleThresholds
    /// The zone for users whose own zone is missing or invalid.
    public var defaultTimeZone: String
    /// In a `local_time` campaign: `is_birthday()` tests each user's local date of their send instead of `now`.
    public var localSendDay: LocalSendDay? = nil
    /// In a journey's branch condition: what the instance's message steps did (sent(), opened(), clicked()).
    public var journey: JourneyMessageFacts? = nil

    /// An environment at `now`.
    public init(now: Int64, lifecycle: LifecycleThresholds = .init(), defaultTimeZone: String = "UTC") {
        self.now = now
        self.lifecycle = lifecycle
        self.defaultTimeZone = defaultTimeZone
    }
}
