/// Experiment, conversion and message types of a campaign.
extension Campaign {
    /// One experiment arm.
    public struct Variant: Sendable, Hashable {
        /// The variant id, unique in the campaign.
        public var id: String
        /// The relative weight (positive); weights split the non-holdout audience. Written as percentages they must sum to 100%.
        public var weight: Double
        /// The campaign message with this variant's overrides applied; nil when it sends the campaign's message.
        public var message: Message?

        /// A variant.
        public init(id: String, weight: Double, message: Message? = nil) {
            self.id = id
            self.weight = weight
            self.message = message
        }
    }

    /// `experiment:`.
    public struct Experiment: Sendable, Hashable {
        /// Percent of the audience held out (0–100).
        public var holdoutPercent: Double
        /// The variants; empty means one arm with the campaign's message.
        public var variants: [Variant]
        /// `winner:`: test then send the winner, or a bandit; nil: a plain split.
        public var winner: Winner? = nil

        /// An experiment.
        public init(holdoutPercent: Double, variants: [Variant]) {
            self.holdoutPercent = holdoutPercent
            self.variants = variants
        }
    }

    /// `conversion:`: the event that counts as a conversion, within a window after the send.
    public struct Conversion: Sendable, Hashable {
        /// The converting event.
        public var event: String
        /// The attribution window, seconds.
        public var within: Int64

        /// A conversion goal.
        public init(event: String, within: Int64) {
            self.event = event
            self.within = within
        }
    }

    /// An email body.
    public struct EmailBody: Sendable, Hashable {
        /// The subject line.
        public var subject: MessageTemplate
        /// The plain-text part.
        public var text: MessageTemplate?
        /// The HTML part.
        public var html: MessageTemplate?

        /// An email body.
        public init(subject: MessageTemplate, text: MessageTemplate? = nil, html: MessageTemplate? = nil) {
            self.subject = subject
            self.text = text
            self.html = html
        }
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

        /// A body field.
        public init(key: String, value: BodyValue) {
            self.key = key
            self.value = value
        }
    }

    /// A webhook body.
    public struct WebhookBody: Sendable, Hashable {
        /// The endpoint name in `channels.webhook.endpoints`.
        public var endpoint: String
        /// The JSON body to send.
        public var body: BodyValue

        /// A webhook body.
        public init(endpoint: String, body: BodyValue) {
            self.endpoint = endpoint
            self.body = body
        }
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
        /// The push.
        public var push: PushBody?

        /// A message.
        public init(channel: ChannelKind, fallback: [ChannelKind] = [], email: EmailBody? = nil, sms: MessageTemplate? = nil, webhook: WebhookBody? = nil, push: PushBody? = nil) {
            self.push = push
            self.channel = channel
            self.fallback = fallback
            self.email = email
            self.sms = sms
            self.webhook = webhook
        }
    }
}

extension Campaign {
    /// The message a recipient in `variant` gets: the variant's merged message, else the campaign's.
    public func message(forVariant variant: String?) -> Message {
        guard let variant, let v = experiment?.variants.first(where: { $0.id == variant }) else { return message }
        return v.message ?? message
    }
}
