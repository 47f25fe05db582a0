import HeraldCore

/// Which provider gate (rate limit, quota, breaker) a send passes: one per channel, one per webhook endpoint.
public enum GateKey: Sendable, Hashable, CustomStringConvertible {
    /// The email provider.
    case email
    /// The SMS provider.
    case sms
    /// One named webhook endpoint.
    case webhook(endpoint: String)
    /// The push providers (one rate for the channel).
    case push

    /// The gate of an envelope's provider.
    public init(_ envelope: Envelope) {
        switch envelope.channel {
        case .email: self = .email
        case .sms: self = .sms
        case .webhook: self = .webhook(endpoint: envelope.endpoint ?? "")
        case .push: self = .push
        }
    }

    /// The channel the gate's provider serves.
    public var channel: ChannelKind {
        switch self {
        case .email: .email
        case .sms: .sms
        case .webhook: .webhook
        case .push: .push
        }
    }

    /// `email`, `sms`, `webhook:NAME`: how logs and metrics name the provider.
    public var description: String {
        switch self {
        case .email: "email"
        case .sms: "sms"
        case .webhook(let endpoint): "webhook:" + endpoint
        case .push: "push"
        }
    }
}
