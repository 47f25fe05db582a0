/// The `channels:` section: providers per channel and the outbox fallback transport.
public struct ChannelsConfig: Sendable, Hashable {
    /// Email settings, if the section is present.
    public var email: EmailChannelConfig?
    /// SMS settings, if the section is present.
    public var sms: SMSChannelConfig?
    /// Webhook endpoints by name.
    public var webhookEndpoints: [String: WebhookEndpoint]
    /// Push providers, if the section is present.
    public var push: PushChannelConfig?
    /// The folder that receives `.eml` / `.json` files for channels without a provider.
    public var outbox: String

    /// A channels section.
    public init(email: EmailChannelConfig? = nil, sms: SMSChannelConfig? = nil,
                webhookEndpoints: [String: WebhookEndpoint] = [:], push: PushChannelConfig? = nil, outbox: String) {
        self.push = push
        self.email = email
        self.sms = sms
        self.webhookEndpoints = webhookEndpoints
        self.outbox = outbox
    }
}

/// Email over SMTP; without `url` messages go to the outbox.
public struct EmailChannelConfig: Sendable, Hashable {
    /// `smtp://host:port` (STARTTLS) or `smtps://host:port`; nil means "use the outbox".
    public var url: String?
    /// Allow `smtp://` without STARTTLS.
    public var insecure: Bool
    /// SMTP user name.
    public var username: String?
    /// The file holding the SMTP password.
    public var passwordFile: String?
    /// The sender mailbox.
    public var from: Mailbox?
    /// A CA bundle to verify the server against.
    public var caFile: String?
    /// Throughput limit.
    public var rate: SendRate?
    /// Daily quota (`N/day`).
    public var quota: SendRate?

    /// An email section.
    public init(url: String? = nil, insecure: Bool = false, username: String? = nil, passwordFile: String? = nil,
                from: Mailbox? = nil, caFile: String? = nil, rate: SendRate? = nil, quota: SendRate? = nil) {
        self.url = url
        self.insecure = insecure
        self.username = username
        self.passwordFile = passwordFile
        self.from = from
        self.caFile = caFile
        self.rate = rate
        self.quota = quota
    }
}

/// The SMS gateway kinds.
public enum SMSProvider: String, Sendable, Hashable, CaseIterable {
    case kannel, twilio, http
}

/// SMS through a gateway; without `url` messages go to the outbox.
public struct SMSChannelConfig: Sendable, Hashable {
    /// The gateway kind.
    public var provider: SMSProvider
    /// The gateway URL; nil means "use the outbox".
    public var url: String?
    /// Gateway user name (Twilio account SID).
    public var username: String?
    /// The file holding the gateway password or token.
    public var passwordFile: String?
    /// The sender number or name.
    public var from: String?
    /// Throughput limit.
    public var rate: SendRate?
    /// The file holding the shared secret Kannel sends with inbound (MO) messages.
    public var inboundSecretFile: String?
    /// The reply to HELP and INFO messages, if configured.
    public var helpReply: String?

    /// An SMS section.
    public init(provider: SMSProvider = .http, url: String? = nil, username: String? = nil,
                passwordFile: String? = nil, from: String? = nil, rate: SendRate? = nil,
                inboundSecretFile: String? = nil, helpReply: String? = nil) {
        self.provider = provider
        self.url = url
        self.username = username
        self.passwordFile = passwordFile
        self.from = from
        self.rate = rate
        self.inboundSecretFile = inboundSecretFile
        self.helpReply = helpReply
    }
}

/// One named webhook endpoint.
public struct WebhookEndpoint: Sendable, Hashable {
    /// The endpoint's name, used by campaigns.
    public var name: String
    /// The `http(s)://` URL; nil means "use the outbox".
    public var url: String?
    /// Files holding HMAC signing secrets; the first signs, all verify (for rotation).
    public var secretFiles: [String]
    /// Throughput limit.
    public var rate: SendRate?

    /// An endpoint.
    public init(name: String, url: String?, secretFiles: [String] = [], rate: SendRate? = nil) {
        self.name = name
        self.url = url
        self.secretFiles = secretFiles
        self.rate = rate
    }
}
