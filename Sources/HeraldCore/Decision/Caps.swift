/// One past or pending send of a user, as the caps count it (read from the ledger).
public struct SendRecord: Sendable, Hashable {
    /// When it was (or will be) sent, epoch seconds.
    public var at: Int64
    /// The channel used.
    public var channel: ChannelKind
    /// The campaign's topic, if any.
    public var topic: String?
    /// The campaign id.
    public var campaign: String
    /// Transactional sends never count toward the global caps.
    public var transactional: Bool

    /// A send record.
    public init(
        at: Int64, channel: ChannelKind, topic: String?, campaign: String, transactional: Bool = false
    ) {
        self.at = at
        self.channel = channel
        self.topic = topic
        self.campaign = campaign
        self.transactional = transactional
    }
}

/// The cap rules applied to one decision: the global policy caps and the campaign's `limits.per_user`.
///
/// **Window edge.** A cap over `per` seconds evaluated at `now` counts every send with
/// `now - per <= at` — the same closed lower edge as the segment language's `now - w <= t <= now`:
/// a send exactly `per` ago still counts; one a second older does not. Sends already planned for
/// later (`at > now`) count too, so planning can never overbook a user.
///
/// **Adaptive caps** (docs/segments.md). With `adaptive_caps: true`, a rule's effective maximum for a user is
/// `max(1, round(max × clamp(engagement / 0.25, 0.25, 1)))`, where engagement is `Engagement.ratio`: the
/// user's messages of the last 90 days that were opened, clicked or converted, over those sent. A user with
/// engagement ≥ 25 % gets the configured maximum; one who never engages gets a quarter of it (at least 1); a
/// user with no send in 90 days gets the configured maximum. Campaign `per_user` limits are the campaign's
/// own repetition rule and are not scaled.
public struct CapPolicy: Sendable {
    /// Engagement at or above which a user gets the full maximum.
    public static let adaptiveTarget = 0.25
    /// The smallest fraction of the maximum an adaptive cap scales to.
    public static let adaptiveFloor = 0.25
    /// The rule in words, for `herald why` and docs/segments.md.
    public static let adaptiveRule =
        "effective max = max(1, round(max × clamp(engagement / 0.25, 0.25, 1))); no send in 90 days → configured max"

    /// The global policy caps.
    public var rules: [CapRule]
    /// Whether the policy caps scale with engagement.
    public var adaptive: Bool

    /// A cap policy.
    public init(rules: [CapRule], adaptive: Bool) {
        self.rules = rules
        self.adaptive = adaptive
    }

    /// The effective maximum of a rule whose configured maximum is `max` for a user with `engagement` (nil: no
    /// send in 90 days).
    public static func adaptiveMax(_ max: Int, engagement: Double?) -> Int {
        guard let e = engagement, !e.isNaN else { return max }
        let scale = Swift.min(Swift.max(e / adaptiveTarget, adaptiveFloor), 1)
        return Swift.max(1, Int((Double(max) * scale).rounded()))
    }

    /// One cap rule's verdict.
    public struct Verdict: Sendable, Hashable {
        /// `cap:<label>`'s label, e.g. `any/7d` or `campaign/30d`.
        public var label: String
        /// Sends counted in the window.
        public var used: Int
        /// The effective maximum.
        public var max: Int
        /// The configured maximum (differs from `max` under adaptive caps).
        public var configured: Int
        /// The window, seconds.
        public var per: Int64
        /// True when the send would exceed the cap.
        public var blocked: Bool { used >= max }
    }

    /// Every rule's verdict for a send of `campaign` on `channel` at `now`, global rules first, then `per_user`.
    public func verdicts(
        campaign: Campaign, channel: ChannelKind, history: [SendRecord], engagement: Double?, now: Int64
    ) -> [Verdict] {
        var out: [Verdict] = []
        if !campaign.transactional {
            for rule in rules {
                let since = now - rule.per
                var used = 0
                for r in history where !r.transactional && r.at >= since && Self.matches(rule.scope, r) {
                    used += 1
                }
                // A channel or topic rule only binds a send that is on that channel or topic.
                switch rule.scope {
                case .anyChannel: break
                case .channel(let c): if c != channel { continue }
                case .topic(let t): if t != campaign.topic { continue }
                }
                let effective = adaptive ? Self.adaptiveMax(rule.max, engagement: engagement) : rule.max
                out.append(
                    Verdict(
                        label: rule.label, used: used, max: effective, configured: rule.max, per: rule.per))
            }
        }
        if let limit = campaign.limits.perUser {
            let since = now - limit.per
            let used = history.reduce(0) { $0 + ($1.campaign == campaign.id && $1.at >= since ? 1 : 0) }
            out.append(
                Verdict(
                    label: "campaign/\(DurationSpec.format(limit.per))", used: used, max: limit.max,
                    configured: limit.max, per: limit.per))
        }
        return out
    }

    static func matches(_ scope: CapRule.Scope, _ r: SendRecord) -> Bool {
        switch scope {
        case .anyChannel: true
        case .channel(let c): r.channel == c
        case .topic(let t): r.topic == t
        }
    }
}
