/// One campaign occurrence: what started it and the window it opens.
public struct Occurrence: Sendable, Hashable {
    /// A stable id, part of idempotency keys (the trigger instant in UTC, `2026-12-01T09:00:00Z`).
    public var id: String
    /// The trigger instant, epoch seconds: the delivery window starts here.
    public var start: Int64
    /// Where the trigger ends the window sooner than `send_time.within` (a cron occurrence of a `local_time`
    /// campaign ends where the next one starts); nil: `start + within`.
    public var end: Int64?
    /// For `local_time`: the first instant a send may go when whole days of an event's delay count local dates
    /// (the send is still on or after the local date of `start`); nil: `start`. See docs/campaigns.md.
    public var notBefore: Int64?

    /// An occurrence starting at `start`; the id defaults to its UTC timestamp.
    public init(start: Int64, id: String? = nil) {
        self.start = start
        self.id = id ?? TimestampParser.formatUTC(seconds: start)
    }

    /// The end (exclusive) of the delivery window for a campaign whose `send_time.within` is `within`.
    public func windowEnd(within: Int64) -> Int64 { min(start + within, end ?? .max) }
}

/// The one outcome the engine decides for a (campaign occurrence, user) (docs/decisions.md).
public struct Decision: Sendable, Hashable {
    /// What happens.
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        /// A message will be sent at `sendAt`.
        case send
        /// Not sent, for `reason`.
        case suppressed
        /// In the experiment's control group: logged, never sent.
        case holdout
    }

    /// The user id.
    public var user: String
    /// The campaign id.
    public var campaign: String
    /// The occurrence id.
    public var occurrence: String
    /// The outcome.
    public var outcome: Outcome
    /// Why the message is not sent, when suppressed.
    public var skip: SkipReason?
    /// The experiment variant, if any.
    public var variant: String?
    /// The channel chosen (after fallback), nil when none could be.
    public var channel: ChannelKind?
    /// The address used on that channel (nil for webhooks).
    public var address: String?
    /// When to send, epoch seconds; nil unless the outcome is `send`.
    public var sendAt: Int64?
    /// The recipient's local hour of `sendAt`.
    public var localHour: Int?
    /// True when the user's time zone was missing or invalid and `default_timezone` was used.
    public var timezoneDefaulted: Bool
    /// The snapshot row, for rendering samples.
    public var row: Int

    /// A decision.
    public init(
        user: String, campaign: String, occurrence: String, outcome: Outcome, reason: String? = nil,
        variant: String? = nil, channel: ChannelKind? = nil, address: String? = nil, sendAt: Int64? = nil,
        localHour: Int? = nil, timezoneDefaulted: Bool = false, row: Int = -1
    ) {
        self.user = user
        self.campaign = campaign
        self.occurrence = occurrence
        self.outcome = outcome
        self.skip = reason.map(SkipReason.init)
        self.variant = variant
        self.channel = channel
        self.address = address
        self.sendAt = sendAt
        self.localHour = localHour
        self.timezoneDefaulted = timezoneDefaulted
        self.row = row
    }

    /// The machine-readable reason when suppressed (`opted_out:channel`, `cap:any/7d`, …).
    public var reason: String? { skip?.description }

    /// The ledger's idempotency key: campaign, occurrence, user and step (docs/ledger.md).
    public func idempotencyKey(step: Int = 1) -> String { "\(campaign)/\(occurrence)/\(user)/\(step)" }
}

/// One check of a decision, for `herald why`.
public struct DecisionCheck: Sendable, Hashable {
    /// The check: `audience`, `holdout`, `consent`, `contact`, `caps`, `send time`.
    public var name: String
    /// True when the check let the message through.
    public var passed: Bool
    /// What was looked at and why it passed or not.
    public var detail: String

    /// A check.
    public init(name: String, passed: Bool, detail: String) {
        self.name = name
        self.passed = passed
        self.detail = detail
    }
}

/// One user's consent: opt-outs by scope. Absent means opted in.
public struct ConsentState: Sendable, Hashable {
    /// Opted out of everything.
    public var global: Bool
    /// Channels opted out of.
    public var channels: Set<ChannelKind>
    /// Topics opted out of.
    public var topics: Set<String>

    /// A consent state; the default is opted in to everything.
    public init(global: Bool = false, channels: Set<ChannelKind> = [], topics: Set<String> = []) {
        self.global = global
        self.channels = channels
        self.topics = topics
    }

    /// Opted in to everything.
    public static let optedIn = ConsentState()
}
