extension DecisionPipeline {
    /// Runs every check for one row; `trace` (when non-nil) collects the checks for `herald why`.
    func decide(row: Int, inAudience: Bool, context: PlanningContext, trace: inout [DecisionCheck]?)
        -> Decision
    {
        let s = inputs.snapshot
        let user = s.ids[row]
        var d = Decision(
            user: user, campaign: campaign.id, occurrence: occurrence.id, outcome: .suppressed, row: row)
        func note(_ name: String, _ passed: Bool, _ detail: @autoclosure () -> String) {
            if trace != nil { trace?.append(DecisionCheck(name: name, passed: passed, detail: detail())) }
        }
        let zone = context.zone(s.timezone[row])
        d.timezoneDefaulted = zone.defaulted

        // 1. audience
        guard inAudience else {
            if trace?.contains(where: { $0.name == "audience" }) != true {
                note("audience", false, "does not match: \(campaign.audience.segment.source.text)")
            }
            d.reason = "not_in_audience"
            return d
        }
        note("audience", true, "matches: \(campaign.audience.segment.source.text.trimmingCharacters())")

        // 2. holdout and variant
        switch ExperimentAssignment.group(campaign: campaign.id, user: user, experiment: campaign.experiment)
        {
        case .holdout:
            note(
                "holdout", false,
                "in the \(campaign.experiment?.holdoutPercent ?? 0)% holdout (hash of campaign and user)")
            d.outcome = .holdout
            return d
        case .variant(let v):
            d.variant = v
            note("holdout", true, v.map { "variant \($0) (hash of campaign and user)" } ?? "no experiment")
        }

        // 3. consent
        let consent = inputs.consent[user] ?? .optedIn
        if let reason = Self.consentReason(
            consent, userID: user, campaign: campaign, suppressions: inputs.suppressions)
        {
            note("consent", false, reason)
            d.reason = reason
            return d
        }
        note(
            "consent", true,
            campaign.transactional
                ? "no global opt-out; transactional: topic opt-outs do not apply"
                : "no global, topic or user-id suppression")

        // 4. contact, trying channels in the campaign's order
        let message = campaign.message(forVariant: d.variant)
        var firstFailure: String?
        for channel in [message.channel] + message.fallback {
            let (address, failure) = Self.contact(
                channel, row: row, snapshot: s, consent: consent, suppressions: inputs.suppressions)
            if let failure {
                note("contact", false, "\(channel.rawValue): \(failure)")
                firstFailure = firstFailure ?? failure
                continue
            }
            d.channel = channel
            d.address = address
            note(
                "contact", true,
                "\(channel.rawValue)"
                    + (address.map { " → \(ContactValidator.mask($0))" } ?? " (no address needed)"))
            break
        }
        guard let channel = d.channel else {
            d.reason = firstFailure ?? "no_contact"
            return d
        }

        // 5. caps
        let engagement = s.engagement[row].isNaN ? nil : s.engagement[row]
        let verdicts = context.capPolicy.verdicts(
            campaign: campaign, channel: channel, history: inputs.history[user] ?? [], engagement: engagement,
            now: inputs.now)
        if trace != nil {
            if campaign.transactional { note("caps", true, "transactional: global caps do not apply") }
            if context.capPolicy.adaptive && !campaign.transactional {
                let e = engagement.map { String(Int(($0 * 100).rounded())) + "%" } ?? "null: no send in 90 days"
                note("caps", true, "adaptive (engagement \(e)): \(CapPolicy.adaptiveRule)")
            }
            if verdicts.isEmpty && !campaign.transactional { note("caps", true, "no caps apply") }
            for v in verdicts {
                let scaled = v.max != v.configured ? " (configured \(v.configured))" : ""
                note(
                    "caps", !v.blocked,
                    "\(v.label): \(v.used) of \(v.max)\(scaled) used since \(TimestampParser.formatUTC(seconds: inputs.now - v.per))"
                )
            }
        }
        if let blocked = verdicts.first(where: \.blocked) {
            d.reason = "cap:\(blocked.label)"
            return d
        }

        // 6. send time
        let picker = sendTimePicker
        let quiet =
            campaign.transactional
            ? nil : inputs.policy.quietHours.flatMap { $0.applies(to: channel) ? $0 : nil }
        var at: Int64?
        // `how` is built only when tracing: string work per user would dominate a million-user pass.
        let tracing = trace != nil
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
            if let pick = picker.bestTime(
                profile: scores, window: zone.slots, spread: spread, quiet: quiet)
            {
                at = pick.at
                if tracing {
                    how =
                        "best_time from the \(source.describe(ownEvents: ownEvents)) profile: best hour "
                        + "\(pick.slot.time) in \(zone.clock.name)"
                }
            }
        }
        guard var sendAt = at else {
            note(
                "send time", false,
                "window_missed: the window ended \(TimestampParser.formatUTC(seconds: context.windowEnd))")
            d.reason = "window_missed"
            return d
        }
        if let quiet {
            let moved = quiet.nextAllowed(sendAt, clock: zone.clock)
            if moved != sendAt && tracing { how += "; quiet hours \(quiet.from)–\(quiet.to) defer it" }
            sendAt = moved
        }
        // Never past the window: quiet hours lasting beyond its end leave no moment to send in. The row would
        // only expire at dispatch, counting toward the caps until then.
        guard sendAt < context.windowEnd else {
            note(
                "send time", false,
                "window_missed: quiet hours last until \(TimestampParser.formatUTC(seconds: sendAt)), after the "
                    + "window ends \(TimestampParser.formatUTC(seconds: context.windowEnd))")
            d.reason = "window_missed"
            return d
        }
        let local = zone.clock.local(sendAt)
        d.sendAt = sendAt
        d.localHour = local.secondOfDay / 3600
        d.outcome = .send
        note(
            "send time", true,
            "\(how) → \(TimestampParser.formatUTC(seconds: sendAt)) (\(local.date) \(zone.clock.clockTime(sendAt)) local"
                + (zone.defaulted ? ", default_timezone" : "") + ")")
        return d
    }

    /// The user-level consent reason (global opt-out, topic opt-out, user id suppressed), or nil.
    public static func consentReason(
        _ consent: ConsentState, userID: String, campaign: Campaign, suppressions: [String: [String]]
    ) -> String? {
        if consent.global { return "unsubscribed" }
        if !campaign.transactional, let topic = campaign.topic, consent.topics.contains(topic) {
            return "opted_out:topic"
        }
        if let list = suppressions[userID]?.first { return "suppressed:\(list)" }
        return nil
    }

    /// The usable address of `channel` for `row`, or the failure reason.
    static func contact(
        _ channel: ChannelKind, row: Int, snapshot s: AudienceSnapshot, consent: ConsentState,
        suppressions: [String: [String]]
    ) -> (address: String?, failure: String?) {
        if consent.channels.contains(channel.rawValue) { return (nil, "opted_out:channel") }
        let address: String?
        switch channel {
        case .webhook: return (nil, nil)
        case .email: address = s.email[row]
        case .sms: address = s.phone[row]
        }
        guard let address, !address.isEmpty else { return (nil, "no_contact") }
        let valid = channel == .email ? ContactValidator.isEmail(address) : ContactValidator.isE164(address)
        guard valid else { return (nil, "invalid_contact") }
        if let list = suppressions[address]?.first { return (nil, "suppressed:\(list)") }
        return (address, nil)
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
