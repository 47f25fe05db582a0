/// A validated campaign file (SPEC §3).
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
    }

    /// `cancel_if`: the pending send is dropped when `event` happens within `within` of the trigger.
    public struct CancelCondition: Sendable, Hashable {
        /// The cancelling event.
        public var event: String
        /// How long after the trigger the event cancels, seconds.
        public var within: Int64
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
    }

    /// `limits.per_user`: at most `max` sends of this campaign per user per `per` seconds.
    public struct PerUserLimit: Sendable, Hashable {
        /// Sends allowed in the window.
        public var max: Int
        /// The window, seconds.
        public var per: Int64
    }

    /// `limits:`.
    public struct Limits: Sendable, Hashable {
        /// Per-user repetition limit.
        public var perUser: PerUserLimit?
        /// Campaign-wide throughput.
        public var rate: SendRate?
    }

    /// One experiment arm.
    public struct Variant: Sendable, Hashable {
        /// The variant id, unique in the campaign.
        public var id: String
        /// The relative weight (positive).
        public var weight: Double
        /// The campaign message with this variant's overrides applied; nil when it sends the campaign's message.
        public var message: Message?
    }

    /// `experiment:`.
    public struct Experiment: Sendable, Hashable {
        /// Percent of the audience held out (0–100).
        public var holdoutPercent: Double
        /// The variants; empty means one arm with the campaign's message.
        public var variants: [Variant]
    }

    /// `conversion:`: the event that counts as a conversion, within a window after the send.
    public struct Conversion: Sendable, Hashable {
        /// The converting event.
        public var event: String
        /// The attribution window, seconds.
        public var within: Int64
    }

    /// An email body.
    public struct EmailBody: Sendable, Hashable {
        /// The subject line.
        public var subject: MessageTemplate
        /// The plain-text part.
        public var text: MessageTemplate?
        /// The HTML part.
        public var html: MessageTemplate?
    }

    /// A webhook body value: YAML structure whose string leaves are templates.
    public indirect enum BodyValue: Sendable, Hashable {
        /// A string leaf, rendered as a template.
        case template(MessageTemplate)
        /// A number leaf.
        case number(Double)
        /// A boolean leaf.
        case bool(Bool)
        /// A null leaf.
        case null
        /// A list.
        case list([BodyValue])
        /// A mapping, keys in file order.
        case object([BodyField])
    }

    /// One key of a webhook body mapping.
    public struct BodyField: Sendable, Hashable {
        /// The key.
        public var key: String
        /// The value.
        public var value: BodyValue
    }

    /// A webhook body.
    public struct WebhookBody: Sendable, Hashable {
        /// The endpoint name in `channels.webhook.endpoints`.
        public var endpoint: String
        /// The JSON body to send.
        public var body: BodyValue
    }

    /// `message:`: the channel, fallbacks and a body per channel.
    public struct Message: Sendable, Hashable {
        /// The first channel tried.
        public var channel: ChannelKind
        /// Channels tried in order when the first cannot be used.
        public var fallback: [ChannelKind]
        /// The email body.
        public var email: EmailBody?
        /// The SMS text.
        public var sms: MessageTemplate?
        /// The webhook body.
        public var webhook: WebhookBody?
    }

    /// The stable id (`[a-z0-9][a-z0-9-]*`).
    public let id: String
    /// A human name.
    public let name: String
    /// Whether it runs.
    public let status: Status
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
    public let experiment: Experiment?
    /// Conversion tracking, if any.
    public let conversion: Conversion?
    /// What is sent.
    public let message: Message
    /// The campaign file's path.
    public let file: String

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
