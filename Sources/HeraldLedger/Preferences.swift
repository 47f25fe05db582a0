import HeraldCore

/// What a consent choice applies to.
public enum PreferenceScope: Sendable, Hashable, CustomStringConvertible {
    /// Every message.
    case global
    /// One channel: `email`, `sms`, `webhook`.
    case channel(String)
    /// One topic, e.g. `promotions`.
    case topic(String)

    /// `global`, `channel:sms`, `topic:promotions`.
    public var description: String {
        switch self {
        case .global: "global"
        case .channel(let c): "channel:\(c)"
        case .topic(let t): "topic:\(t)"
        }
    }

    /// The stored (kind, key) pair.
    public var storage: (kind: String, key: String) {
        switch self {
        case .global: ("global", "")
        case .channel(let c): ("channel", c)
        case .topic(let t): ("topic", t)
        }
    }

    /// The scope of a stored (kind, key) pair, nil for an unknown kind.
    public init?(kind: String, key: String) {
        switch kind {
        case "global": self = .global
        case "channel": self = .channel(key)
        case "topic": self = .topic(key)
        default: return nil
        }
    }
}

/// One user's consent choices. Absent entries mean "opted in" (the default).
public struct Preferences: Sendable, Hashable {
    /// True when the user opted out of everything.
    public var globalOptOut: Bool
    /// Opt-out per channel name (true = opted out, false = explicitly opted back in).
    public var channels: [String: Bool]
    /// Opt-out per topic name (true = opted out, false = explicitly opted back in).
    public var topics: [String: Bool]
    /// Epoch seconds of the latest change, nil when nothing was ever stored.
    public var updatedAt: Int64?

    /// Preferences; the defaults are "opted in to everything".
    public init(
        globalOptOut: Bool = false, channels: [String: Bool] = [:], topics: [String: Bool] = [:],
        updatedAt: Int64? = nil
    ) {
        self.globalOptOut = globalOptOut
        self.channels = channels
        self.topics = topics
        self.updatedAt = updatedAt
    }

    /// The machine-readable reason (`opted_out:global|channel|topic`) a message on `channel`
    /// about `topic` must not be sent, or nil when consent allows it.
    public func optOutReason(channel: String, topic: String?) -> String? {
        if globalOptOut { return "opted_out:global" }
        if channels[channel] == true { return "opted_out:channel" }
        if let t = topic, topics[t] == true { return "opted_out:topic" }
        return nil
    }
}

/// An entry on a suppression list (bounces, complaints, manual blocks).
public struct Suppression: Sendable, Hashable {
    /// The list name, e.g. `bounces`; reported as `suppressed:<list>`.
    public var list: String
    /// An email address, a phone number or a user id, as given.
    public var address: String
    /// Why it was added (free text).
    public var reason: String
    /// Epoch seconds when it was added.
    public var createdAt: Int64

    /// An entry.
    public init(list: String, address: String, reason: String = "", createdAt: Int64) {
        self.list = list
        self.address = address
        self.reason = reason
        self.createdAt = createdAt
    }
}

/// One committed write, as seen by `AudienceStore.changes(since:limit:)`.
public struct StoreChange: Sendable, Hashable {
    /// The change sequence number (ascending).
    public var sequence: Int64
    /// What changed: `users`, `events`, `preferences`, `suppressions`.
    public var kind: String
    /// A user id when one user was concerned, else nil.
    public var userID: String?
    /// Rows concerned.
    public var rows: Int
    /// Epoch seconds of the write.
    public var at: Int64

    /// A change record.
    public init(sequence: Int64, kind: String, userID: String?, rows: Int, at: Int64) {
        self.sequence = sequence
        self.kind = kind
        self.userID = userID
        self.rows = rows
        self.at = at
    }
}

extension ConsentState {
    /// Adds an opt-out of `scope`. A stored channel Herald does not send on is ignored: it can hold back nothing.
    public mutating func optOut(_ scope: PreferenceScope) {
        switch scope {
        case .global: global = true
        case .channel(let name): if let c = ChannelKind(rawValue: name) { channels.insert(c) }
        case .topic(let t): topics.insert(t)
        }
    }

    /// Adds the opt-out of a stored (kind, key) row; an unknown kind is ignored.
    public mutating func optOut(kind: String, key: String) {
        if let scope = PreferenceScope(kind: kind, key: key) { optOut(scope) }
    }
}

extension Preferences {
    /// Applies one stored row (kind, key, opted out, when); an unknown kind is ignored.
    public mutating func apply(kind: String, key: String, optedOut: Bool, at: Int64) {
        updatedAt = max(updatedAt ?? at, at)
        switch PreferenceScope(kind: kind, key: key) {
        case .global: globalOptOut = optedOut
        case .channel(let c): channels[c] = optedOut
        case .topic(let t): topics[t] = optedOut
        case nil: break
        }
    }

    /// The pipeline's view of these preferences.
    public var consentState: ConsentState {
        var state = ConsentState(global: globalOptOut, topics: Set(topics.filter(\.value).keys))
        for (name, out) in channels where out { state.optOut(.channel(name)) }
        return state
    }
}
