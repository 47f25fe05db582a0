import Foundation
import HeraldCore
import HeraldLedger
import Hummingbird

extension WebConsole {
    /// One campaign: its funnel (the numbers of `herald stats`), variants against the holdout, the local send
    /// hours, and its rollout.
    func campaignPage(_ id: String, _ session: ConsoleSession) async throws -> Response {
        let book = deps.book()
        let campaign = book.campaign(id)
        let goals = Campaign.conversionGoals(book.campaigns)
        let funnel = try await deps.ledger.funnels(campaign: id, goals: goals).first
        guard campaign != nil || funnel != nil else { return notFound("No campaign \(id).", session) }
        var f = funnel ?? CampaignFunnel(campaign: id)
        if funnel == nil, campaign?.conversion != nil { f.converted = 0 }
        let controls = try await deps.ledger.controls()
        var body = ""
        if let c = campaign {
            body += "<p>\(HTML.escape(c.name)) · \(Self.badge(c.status.rawValue)) · \(HTML.escape(Self.trigger(c.trigger)))"
            body += " · \(HTML.escape(Self.goalText(c.conversion)))</p>"
            body += Self.pauseSection(id, journey: false, controls: controls, csrf: session.csrf)
        } else {
            body += "<p class=\"note\">No campaign file has this id: the ledger's rows only.</p>"
        }
        body += "<h2>Funnel</h2>" + Self.funnelSection(f)
        body += "<h2>Variants against the holdout</h2>" + Self.armsSection(f, goal: campaign?.conversion)
        let hours = SendTimeBucket.localHours(
            try await deps.ledger.sendTimes(campaign: id), defaultZone: book.config.policy.defaultTimezone)
        body += "<h2>Sends by recipient-local hour</h2>"
        body += hours.reduce(0, +) == 0
            ? "<p class=\"note\">No sends yet.</p>"
            : SVGCharts.hours(hours, label: "sends by recipient-local hour")
                + "<p class=\"note\">Sent rows at their send time, rows still to send at their planned time, "
                + "each in the recipient's time zone (\(HTML.escape(book.config.policy.defaultTimezone)) when unknown).</p>"
        body += "<h2>Rollout</h2>" + Self.rolloutSection(try await deps.rollout(id))
        if campaign != nil { body += Self.haltSection(id, controls: controls, csrf: session.csrf) }
        return ConsoleReply.html(HTML.page(title: "Campaign \(id)", session: session, body: body))
    }

    /// The goal in words, as `herald stats` titles it.
    static func goalText(_ goal: Campaign.Conversion?) -> String {
        goal.map { "conversion: \($0.event) within \(DurationSpec.format($0.within))" } ?? "no conversion goal configured"
    }

    /// The funnel's stages in `herald stats` order, as (id, label, count).
    static func stages(_ f: CampaignFunnel) -> [(id: String, label: String, value: Int?)] {
        var out: [(id: String, label: String, value: Int?)] = [
            ("audience", "audience", f.decisions), ("holdout", "holdout", f.count(.holdout)),
            ("suppressed", "suppressed", f.count(.suppressed)), ("pending", "pending", f.pending),
            ("sent", "sent", f.sent),
        ]
        for s in [LedgerStatus.delivered, .failed, .dead, .bounced, .expired, .cancelled] {
            out.append((s.rawValue, s.rawValue, f.count(s)))
        }
        out += [("opened", "opened", f.opened), ("clicked", "clicked", f.clicked), ("converted", "converted", f.converted)]
        return out
    }

    /// The funnel as bars, then as a table (the exact numbers, readable without SVG), then suppressions by reason.
    static func funnelSection(_ f: CampaignFunnel) -> String {
        let stages = stages(f)
        var out = SVGCharts.bars(stages.map { ($0.label, $0.value ?? 0) }, label: "funnel of \(f.campaign)")
        out += "<table id=\"funnel\"><thead><tr><th>stage</th><th class=\"n\">rows</th></tr></thead><tbody>"
        for s in stages {
            out += "<tr><td>\(s.label)</td><td class=\"n\" id=\"stage-\(s.id)\">\(s.value.map(String.init) ?? "-")</td></tr>"
        }
        out += "</tbody></table>"
        if !f.suppressedReasons.isEmpty {
            let reasons = f.suppressedReasons.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            out += "<h2>Suppressed by reason</h2>"
            out += HTML.table(["reason", "rows"], reasons.map { [HTML.escape($0.key), "\($0.value)"] }, numeric: [1])
        }
        return out
    }

    /// The experiment table and the lifts drawn with their 95% intervals.
    static func armsSection(_ f: CampaignFunnel, goal: Campaign.Conversion?) -> String {
        let comparisons = f.armComparisons
        guard !comparisons.isEmpty else { return "<p class=\"note\">No experiment: no holdout and no variants.</p>" }
        let rows = comparisons.map { c -> [String] in
            let a = c.arm
            let lift = c.lift.map { "\(points($0.difference)) pp (\(points($0.low)) to \(points($0.high)))" }
            let note: String? =
                switch c.note {
                case .baseline: "baseline"
                case .noGoal: goalText(goal)
                case .noHoldout: "no holdout to compare with"
                case .tooSmall: "n too small"
                case nil: nil
                }
            return [
                HTML.escape(a.isHoldout ? "holdout" : a.variant ?? "(no variant)"), "\(a.users)",
                a.converted.map(String.init) ?? "-", a.rate.map { String(format: "%.1f%%", $0 * 100) } ?? "-",
                HTML.escape(lift ?? note ?? ""),
            ]
        }
        var out = HTML.table(["arm", "users", "converted", "rate", "lift vs holdout (95% CI)"], rows, numeric: [1, 2, 3])
        let lifts = comparisons.compactMap { c in
            c.lift.map { (label: c.arm.variant ?? "(no variant)", lift: $0) }
        }
        if !lifts.isEmpty { out += SVGCharts.intervals(lifts, label: "lift over the holdout with 95% intervals") }
        return out
    }

    /// The rollout's stages and halt, or the placeholder when the campaign has none.
    static func rolloutSection(_ rollout: RolloutView?) -> String {
        guard let rollout else { return "<p class=\"note\" id=\"rollout\">No rollout: the campaign is released at once.</p>" }
        var out = rollout.halt.map { "<p class=\"error\" id=\"rollout\">Halted: \(HTML.escape($0))</p>" }
            ?? "<p id=\"rollout\">Running.</p>"
        out += HTML.table(
            ["stage", "share", "state", "started"],
            rollout.stages.enumerated().map { i, s in
                ["\(i + 1)", String(format: "%g%%", s.percent), HTML.escape(s.state), HTML.time(s.startedAt)]
            })
        return out
    }

    /// The rollout's halt switch in the store and the button that flips it.
    static func haltSection(_ id: String, controls: CampaignControls, csrf: String) -> String {
        let base = "/console/campaigns/\(HTML.component(id))/rollout"
        if let note = controls.haltedRollouts[id] {
            return "<div id=\"halt\"><span class=\"badge halted\">rollout halted</span> by \(HTML.escape(note.by)) at "
                + "\(HTML.time(note.at))\(note.reason.map { ": " + HTML.escape($0) } ?? "") "
                + HTML.button("Resume rollout", action: base + "/resume", csrf: csrf) + "</div>"
        }
        return "<div id=\"halt\">" + HTML.action("Halt rollout", action: base + "/halt", csrf: csrf)
            + " <span class=\"note\">holds a staged release at the stages already released</span></div>"
    }

    /// A signed difference in percentage points: `+6.1`.
    static func points(_ fraction: Double) -> String { String(format: "%+.1f", fraction * 100) }

    /// A 404 page.
    func notFound(_ message: String, _ session: ConsoleSession) -> Response {
        ConsoleReply.html(
            HTML.page(title: "Not found", session: session, body: "<p class=\"error\">\(HTML.escape(message))</p>"),
            status: .notFound)
    }
}
