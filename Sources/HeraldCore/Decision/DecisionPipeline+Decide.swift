/// The decision for one user, one check per function (docs/decisions.md, "order of checks"): each returns
/// what it found or the typed reason the message is not sent, and notes what it looked at into a `CheckNotes`
/// that is a no-op unless `herald why` asked for a trace.
extension DecisionPipeline {
    /// Runs every check for one row; `trace` (when non-nil) collects the checks for `herald why`.
    func decide(row: Int, inAudience: Bool, context: PlanningContext, trace: inout [DecisionCheck]?)
        -> Decision
    {
        var notes = CheckNotes(checks: trace)
        defer { trace = notes.checks }
        let user = inputs.snapshot.ids[row]
        var d = Decision(
            user: user, campaign: campaign.id, occurrence: occurrence.id, outcome: .suppressed, row: row)
        let zone = context.zone(inputs.snapshot.timezone[row])
        d.timezoneDefaulted = zone.defaulted
        if let skip = checkAudience(inAudience, &notes) {
            d.skip = skip
            return d
        }
        guard let variant = checkHoldout(user: user, &notes) else {
            d.outcome = .holdout
            return d
        }
        d.variant = variant
        let consent = inputs.consent[user] ?? .optedIn
        if let skip = checkConsent(user: user, consent, &notes) {
            d.skip = skip
            return d
        }
        let channel: ChannelKind
        switch checkContact(row: row, variant: variant, consent, &notes) {
        case .skip(let skip):
            d.skip = skip
            return d
        case .pass(let found):
            channel = found.channel
            d.channel = found.channel
            d.address = found.address
        }
        if let skip = checkCaps(row: row, user: user, channel: channel, context: context, &notes) {
            d.skip = skip
            return d
        }
        switch checkSendTime(row: row, user: user, channel: channel, zone: zone, context: context, &notes) {
        case .skip(let skip):
            d.skip = skip
        case .pass(let sendAt):
            d.sendAt = sendAt
            d.localHour = zone.clock.local(sendAt).secondOfDay / 3600
            d.outcome = .send
        }
        return d
    }

    /// 1. The audience (matched by the caller, in bulk or for one user).
    func checkAudience(_ inAudience: Bool, _ notes: inout CheckNotes) -> SkipReason? {
        guard inAudience else {
            if notes.checks?.contains(where: { $0.name == "audience" }) != true {
                notes.add("audience", false, "does not match: \(campaign.audience.segment.source.text)")
            }
            return .notInAudience
        }
        notes.add("audience", true, "matches: \(campaign.audience.segment.source.text.trimmingCharacters())")
        return nil
    }

    /// 2. The experiment: the user's variant (nil for a campaign without variants), or nil-nil in the holdout.
    func checkHoldout(user: String, _ notes: inout CheckNotes) -> String?? {
        switch ExperimentAssignment.group(campaign: campaign.id, user: user, experiment: campaign.experiment) {
        case .holdout:
            notes.add(
                "holdout", false,
                "in the \(campaign.experiment?.holdoutPercent ?? 0)% holdout (hash of campaign and user)")
            return nil
        case .variant(let v):
            notes.add("holdout", true, v.map { "variant \($0) (hash of campaign and user)" } ?? "no experiment")
            return .some(v)
        }
    }

    /// 3. Consent at the user level: global opt-out, topic opt-out, the user id suppressed.
    func checkConsent(user: String, _ consent: ConsentState, _ notes: inout CheckNotes) -> SkipReason? {
        if let reason = Self.consentSkip(consent, userID: user, campaign: campaign, suppressions: inputs.suppressions) {
            notes.add("consent", false, reason.description)
            return reason
        }
        notes.add(
            "consent", true,
            campaign.transactional
                ? "no global opt-out; transactional: topic opt-outs do not apply"
                : "no global, topic or user-id suppression")
        return nil
    }

    /// 4. Contact: the first channel of the message's order (its channel, then its fallbacks) the user can be
    /// reached on, with its address; else the first channel's reason.
    func checkContact(row: Int, variant: String?, _ consent: ConsentState, _ notes: inout CheckNotes)
        -> Checked<(channel: ChannelKind, address: String?)>
    {
        let message = campaign.message(forVariant: variant)
        var firstFailure: SkipReason?
        for channel in [message.channel] + message.fallback {
            switch Self.contact(
                channel, row: row, snapshot: inputs.snapshot, consent: consent, suppressions: inputs.suppressions)
            {
            case .skip(let failure):
                notes.add("contact", false, "\(channel.rawValue): \(failure)")
                firstFailure = firstFailure ?? failure
            case .pass(let address):
                let to = channel == .push
                    ? " → \(inputs.snapshot.pushDevices(row: row)) active device(s)"
                    : address.map { " → \(ContactValidator.mask($0))" } ?? " (no address needed)"
                notes.add("contact", true, "\(channel.rawValue)" + to)
                return .pass((channel, address))
            }
        }
        return .skip(firstFailure ?? .noContact)
    }

    /// 5. Frequency caps, counted over the user's send history (adaptive caps scale them by engagement).
    func checkCaps(row: Int, user: String, channel: ChannelKind, context: PlanningContext, _ notes: inout CheckNotes)
        -> SkipReason?
    {
        let e = inputs.snapshot.engagement[row]
        let engagement = e.isNaN ? nil : e
        let verdicts = context.capPolicy.verdicts(
            campaign: campaign, channel: channel, history: inputs.history[user] ?? [], engagement: engagement,
            now: inputs.now)
        if notes.isTracing {
            if campaign.transactional { notes.add("caps", true, "transactional: global caps do not apply") }
            if context.capPolicy.adaptive && !campaign.transactional {
                let e = engagement.map { String(Int(($0 * 100).rounded())) + "%" } ?? "null: no send in 90 days"
                notes.add("caps", true, "adaptive (engagement \(e)): \(CapPolicy.adaptiveRule)")
            }
            if verdicts.isEmpty && !campaign.transactional { notes.add("caps", true, "no caps apply") }
            for v in verdicts {
                let scaled = v.max != v.configured ? " (configured \(v.configured))" : ""
                notes.add(
                    "caps", !v.blocked,
                    "\(v.label): \(v.used) of \(v.max)\(scaled) used since \(TimestampParser.formatUTC(seconds: inputs.now - v.per))"
                )
            }
        }
        return verdicts.first(where: \.blocked).map { .cap($0.label) }
    }

    /// 6. Send time: the strategy's moment, moved out of quiet hours, inside the delivery window.
    func checkSendTime(
        row: Int, user: String, channel: ChannelKind, zone: PlanningContext.Zone, context: PlanningContext,
        _ notes: inout CheckNotes
    ) -> Checked<Int64> {
        let picker = sendTimePicker
        let quiet =
            campaign.transactional
            ? nil : inputs.policy.quietHours.flatMap { $0.applies(to: channel) ? $0 : nil }
        var at: Int64?
        // `how` is built only when tracing: string work per user would dominate a million-user pass.
        let tracing = notes.isTracing
        var how = ""
        switch campaign.sendTime.strategy {
        case .immediate:
            at = picker.immediate()
            if tracing { how = "immediate" }
        case .localTime:
            let time = campaign.sendTime.localTime ?? ClockTime(hour: 10, minute: 0)
            at = localTimeSend(time, row: row, picker: picker, clock: zone.clock)
            if tracing { how = "local_time \(time) in \(zone.clock.name)" }
        case .bestTime:
            let (scores, source, ownEvents) = context.bestTimeScores(row, window: zone.slots)
            let spread = AssignmentHash.hash("spread", campaign.id, user)
            if let pick = picker.bestTime(profile: scores, window: zone.slots, spread: spread, quiet: quiet) {
                at = pick.at
                if tracing {
                    how =
                        "best_time from the \(source.describe(ownEvents: ownEvents)) profile: best hour "
                        + "\(pick.slot.time) in \(zone.clock.name)"
                }
            }
        }
        guard var sendAt = at else {
            notes.add(
                "send time", false,
                "window_missed: the window ended \(TimestampParser.formatUTC(seconds: context.windowEnd))")
            return .skip(.windowMissed)
        }
        if let quiet {
            let moved = quiet.nextAllowed(sendAt, clock: zone.clock)
            if moved != sendAt && tracing { how += "; quiet hours \(quiet.from)–\(quiet.to) defer it" }
            sendAt = moved
        }
        // Never past the window: quiet hours lasting beyond its end leave no moment to send in. The row would
        // only expire at dispatch, counting toward the caps until then.
        guard sendAt < context.windowEnd else {
            notes.add(
                "send time", false,
                "window_missed: quiet hours last until \(TimestampParser.formatUTC(seconds: sendAt)), after the "
                    + "window ends \(TimestampParser.formatUTC(seconds: context.windowEnd))")
            return .skip(.windowMissed)
        }
        if tracing {
            let local = zone.clock.local(sendAt)
            notes.add(
                "send time", true,
                "\(how) → \(TimestampParser.formatUTC(seconds: sendAt)) (\(local.date) \(zone.clock.clockTime(sendAt)) local"
                    + (zone.defaulted ? ", default_timezone" : "") + ")")
        }
        return .pass(sendAt)
    }

    /// The user-level consent reason (global opt-out, topic opt-out, user id suppressed), or nil.
    public static func consentSkip(
        _ consent: ConsentState, userID: String, campaign: Campaign, suppressions: [String: [String]]
    ) -> SkipReason? {
        if consent.global { return .unsubscribed }
        if !campaign.transactional, let topic = campaign.topic, consent.topics.contains(topic) {
            return .optedOutTopic
        }
        if let list = suppressions[userID]?.first { return .suppressed(list: list) }
        return nil
    }

    /// The usable address of `channel` for `row`, or the failure reason.
    static func contact(
        _ channel: ChannelKind, row: Int, snapshot s: AudienceSnapshot, consent: ConsentState,
        suppressions: [String: [String]]
    ) -> Checked<String?> {
        if consent.channels.contains(channel) { return .skip(.optedOutChannel) }
        let address: String?
        switch channel {
        case .webhook: return .pass(nil)
        case .push: return s.pushDevices(row: row) > 0 ? .pass(nil) : .skip(.noContact)
        case .email: address = s.email[row]
        case .sms: address = s.phone[row]
        }
        guard let address, !address.isEmpty else { return .skip(.noContact) }
        let valid = channel == .email ? ContactValidator.isEmail(address) : ContactValidator.isE164(address)
        guard valid else { return .skip(.invalidContact) }
        if let list = suppressions[address]?.first { return .skip(.suppressed(list: list)) }
        return .pass(address)
    }
}

/// A check's finding, or why the message is not sent.
enum Checked<Value> {
    case pass(Value)
    case skip(SkipReason)
}

/// What the checks looked at, for `herald why`; costs nothing when `checks` is nil (a planning pass).
struct CheckNotes {
    var checks: [DecisionCheck]?

    /// True when a trace is being collected: build detail strings only then.
    var isTracing: Bool { checks != nil }

    /// Notes one check's result.
    mutating func add(_ name: String, _ passed: Bool, _ detail: @autoclosure () -> String) {
        if checks != nil { checks?.append(DecisionCheck(name: name, passed: passed, detail: detail())) }
    }
}

extension String {
    /// The text without leading and trailing whitespace and newlines.
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
