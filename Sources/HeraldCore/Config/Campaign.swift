/// A validated campaign file (docs/campaigns.md).
public struct Campaign: Sendable {
    /// `active`, `paused` or `draft`.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case active, paused, draft
    }

    /// Who the campaign targets.
    public struct Audience: Sendable {
        /// Users who match this are in the audience.
        public var segment: CompiledSegment
        /// Users who match this are left out, if given.
        public var exclude: CompiledSegment?

        /// An audience.
        public init(segment: CompiledSegment, exclude: CompiledSegment? = nil) {
            self.segment = segment
            self.exclude = exclude
        }
    }

    /// `cancel_if`: the pending send is dropped when `event` happens within `within` of the trigger.
    public struct CancelCondition: Sendable, Hashable {
        /// The cancelling event.
        public var event: String
        /// How long after the trigger the event cancels, seconds.
        public var within: Int64

        /// A cancel condition.
        public init(event: String, within: Int64) {
            self.event = event
            self.within = within
        }
    }

    /// What starts an occurrence of the campaign.
    public enum Trigger: Sendable, Hashable {
        /// Once, at this instant (epoch seconds).
        case schedule(at: Int64)
        /// Recurring, in the IANA zone `timeZone`.
        case cron(CronExpression, timeZone: String)
        /// Per event, after `delay` seconds, unless `cancelIf` happens.
        case event(name: String, delay: Int64, cancelIf: CancelCondition?)
        /// When a user newly matches the audience.
        case enteredSegment
        /// By `POST /v1/campaigns/{id}/trigger`.
        case api
    }

    /// How each recipient's send time is chosen.
    public enum SendStrategy: String, Sendable, Hashable, CaseIterable {
        case bestTime = "best_time"
        case localTime = "local_time"
        case immediate
    }

    /// `send_time:`.
    public struct SendTime: Sendable, Hashable {
        /// The strategy.
        public var strategy: SendStrategy
        /// The delivery window from the trigger, seconds.
        public var within: Int64
        /// The recipient-local time for `local_time`.
        public var localTime: ClockTime?

        /// A send-time rule.
        public init(strategy: SendStrategy, within: Int64, localTime: ClockTime? = nil) {
            self.strategy = strategy
            self.within = within
            self.localTime = localTime
        }
    }

    /// `limits.per_user`: at most `max` sends of this campaign per user per `per` seconds.
    public struct PerUserLimit: Sendable, Hashable {
        /// Sends allowed in the window.
        public var max: Int
        /// The window, seconds.
        public var per: Int64

        /// A per-user limit.
        public init(max: Int, per: Int64) {
            self.max = max
            self.per = per
        }
    }

    /// `limits:`.
    public struct Limits: Sendable, Hashable {
        /// Per-user repetition limit.
        public var perUser: PerUserLimit?
        /// Campaign-wide throughput.
        public var rate: SendRate?

        /// Limits; none by default.
        public init(perUser: PerUserLimit? = nil, rate: SendRate? = nil) {
            self.perUser = perUser
            self.rate = rate
        }
    }

    /// The stable id (`[a-z0-9][a-z0-9-]*`).
    public let id: String
    /// A human name.
    public let name: String
    /// Whether it runs.
    public var status: Status
    /// The subscription topic, if any.
    public let topic: String?
    /// Higher wins when caps leave room for one campaign.
    public let priority: Int
    /// Exempt from caps, topics and quiet hours (never from channel opt-out).
    public let transactional: Bool
    /// Who gets it.
    public let audience: Audience
    /// When it starts.
    public let trigger: Trigger
    /// When each recipient gets it.
    public let sendTime: SendTime
    /// Repetition and throughput limits.
    public let limits: Limits
    /// A/B test and holdout, if any.
    public var experiment: Experiment?
    /// `rollout:`: a staged release, if any (docs/experiments.md).
    public var rollout: Rollout? = nil
    /// Conversion tracking, if any.
    public let conversion: Conversion?
    /// What is sent.
    public let message: Message
    /// The campaign file's path.
    public let file: String

    /// A campaign from validated parts (tests and tools; files go through `CampaignFile`).
    public init(
        id: String, name: String, status: Status, topic: String?, priority: Int, transactional: Bool, audience: Audience, trigger: Trigger, sendTime: SendTime, limits: Limits, experiment: Experiment?, conversion: Conversion?, message: Message, file: String
    ) {
        self.id = id
        self.name = name
        self.status = status
        self.topic = topic
        self.priority = priority
        self.transactional = transactional
        self.audience = audience
        self.trigger = trigger
        self.sendTime = sendTime
        self.limits = limits
        self.experiment = experiment
        self.conversion = conversion
        self.message = message
        self.file = file
    }

    /// What an audience snapshot must load: the segments' needs plus trigger, cancel and conversion events.
    public var requirements: SnapshotRequirements {
        var r = audience.segment.requirements
        if let ex = audience.exclude { r = r.union(ex.requirements) }
        if case .event(let name, _, let cancel) = trigger {
            r.events.insert(name)
            if let cancel { r.events.insert(cancel.event) }
        }
        if let conversion { r.events.insert(conversion.event) }
        return r
    }
}
