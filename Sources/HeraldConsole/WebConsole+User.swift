import HeraldCore
import HeraldLedger
import Hummingbird

extension WebConsole {
    /// One user: profile (addresses masked), 7×24 activity heatmap, preferences, recent sends, journey
    /// instances and push devices.
    func userPage(_ id: String, _ session: ConsoleSession) async throws -> Response {
        guard !id.isEmpty else { return notFound("Give a user id.", session) }
        guard let facts = try await deps.store.facts(id: id) else { return notFound("No user \(id) in the store.", session) }
        let book = deps.book()
        let p = facts.profile
        let zones = ZoneTable.shared
        let zone = p.timezone.flatMap { zones.isValid($0) ? $0 : nil } ?? book.config.policy.defaultTimezone
        var profile: [(String, String)] = [
            ("id", p.id), ("email", p.email.map(ContactValidator.mask) ?? "-"),
            ("phone", p.phone.map(ContactValidator.mask) ?? "-"),
            ("timezone", p.timezone ?? "- (\(book.config.policy.defaultTimezone) applies)"), ("locale", p.locale ?? "-"),
            ("created_at", p.createdAt.map { TimestampParser.formatUTC(seconds: $0) } ?? "-"),
        ]
        for name in book.config.attributes.names { profile.append((name, Self.text(p.attributes[name] ?? .null))) }
        var body = "<h2>Profile</h2>" + HTML.table(["field", "value"], profile.map { [HTML.escape($0.0), HTML.escape($0.1)] })

        let heatmap = ActivityHeatmap(times: facts.allEventTimes, zone: zone)
        body += "<h2>Activity by local hour of week</h2><p class=\"note\">\(heatmap.total) events, in \(HTML.escape(zone)).</p>"
        body += SVGCharts.heatmap(heatmap.counts, rowNames: ActivityHeatmap.weekdays, label: "activity of \(id) by hour of week")

        let prefs = try await deps.store.preferences(userID: id)
        var prefRows = [["all messages", prefs.globalOptOut ? "opted out" : "opted in"]]
        for (c, out) in prefs.channels.sorted(by: { $0.key < $1.key }) { prefRows.append(["channel \(c)", out ? "opted out" : "opted in"]) }
        for (t, out) in prefs.topics.sorted(by: { $0.key < $1.key }) { prefRows.append(["topic \(t)", out ? "opted out" : "opted in"]) }
        body += "<h2>Preferences</h2>" + HTML.table(["scope", "state"], prefRows.map { $0.map(HTML.escape) })

        let sends = try await deps.ledger.entries(campaign: nil, user: id, status: nil, limit: 50)
        body += "<h2>Recent sends</h2>" + HTML.table(
            ["updated", "campaign", "channel", "address", "status", "reason"],
            sends.map { e in
                [HTML.time(e.updatedAt), "<a href=\"/console/campaigns/\(HTML.escape(HTML.component(e.campaign)))\">\(HTML.escape(e.campaign))</a>",
                 HTML.escape(e.channel?.rawValue ?? ""), HTML.escape(e.address.map(ContactValidator.mask) ?? ""),
                 HTML.escape(e.status.rawValue), HTML.escape(e.reason ?? "")]
            })

        var instances: [[String]] = []
        for j in book.journeys {
            for i in try await deps.ledger.journeyInstances(journey: j.id, user: id) {
                instances.append([
                    "<a href=\"/console/journeys/\(HTML.escape(HTML.component(j.id)))\">\(HTML.escape(j.id))</a>",
                    HTML.escape(i.id), HTML.escape(i.status.rawValue), HTML.escape(i.step), HTML.time(i.enteredAt),
                    i.status == .active ? HTML.time(i.dueAt) : "",
                ])
            }
        }
        body += "<h2>Journey instances</h2>" + HTML.table(["journey", "instance", "status", "step", "entered", "due"], instances)

        let devices = try await deps.store.devices(userID: id)
        body += "<h2>Push devices</h2>" + HTML.table(
            ["platform", "token", "registered", "state"],
            devices.map { d in
                // Tokens are credentials: the last four characters only, as in the logs.
                [HTML.escape(d.registration.platform.rawValue), HTML.escape("…" + d.registration.token.suffix(4)),
                 HTML.time(d.registeredAt),
                 d.active ? "active" : "inactive: \(HTML.escape(d.deactivatedReason ?? "-")) at \(HTML.time(d.deactivatedAt))"]
            })
        return ConsoleReply.html(HTML.page(title: "User \(id)", session: session, body: body))
    }

    /// A profile value as text.
    static func text(_ v: Value) -> String {
        switch v {
        case .null: "-"
        case .bool(let b): "\(b)"
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): s
        case .timestamp(let t): TimestampParser.formatUTC(seconds: t)
        case .list(let l): "[" + l.joined(separator: ", ") + "]"
        }
    }
}
