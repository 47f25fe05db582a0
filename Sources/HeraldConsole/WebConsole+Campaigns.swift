import HeraldCore
import HeraldLedger
import Hummingbird

extension WebConsole {
    /// Campaigns and journeys: status, audience (rows decided so far) and sends in the last 24 hours.
    func campaignsPage(_ session: ConsoleSession) async throws -> Response {
        let book = deps.book()
        let now = deps.clock()
        let activity = try await deps.ledger.campaignActivity(since: now - 86_400)
        let controls = try await deps.ledger.controls()
        /// The file's status, or `paused` when the store pauses an active one (as every daemon will within a tick).
        func status(_ id: String, _ file: String) -> String {
            Self.badge(file == "active" && controls.paused[id] != nil ? "paused" : file)
        }
        var rows: [[String]] = book.campaigns.map { c in
            let a = activity[c.id]
            return [
                "<a href=\"/console/campaigns/\(HTML.escape(HTML.component(c.id)))\">\(HTML.escape(c.id))</a>",
                HTML.escape(c.name), status(c.id, c.status.rawValue), HTML.escape(Self.trigger(c.trigger)),
                HTML.escape(c.message.channel.rawValue), "\(a?.decisions ?? 0)", "\(a?.recentSends ?? 0)",
            ]
        }
        let configured = Set(book.campaigns.map(\.id) + book.journeys.map(\.id))
        for (id, a) in activity.sorted(by: { $0.key < $1.key }) where !configured.contains(id) {
            rows.append([
                "<a href=\"/console/campaigns/\(HTML.escape(HTML.component(id)))\">\(HTML.escape(id))</a>",
                "<span class=\"note\">no campaign file</span>", "", "", "", "\(a.decisions)", "\(a.recentSends)",
            ])
        }
        var journeys: [[String]] = []
        for j in book.journeys {
            let statuses = try await deps.ledger.journeyStatusCounts(journey: j.id)
            journeys.append([
                "<a href=\"/console/journeys/\(HTML.escape(HTML.component(j.id)))\">\(HTML.escape(j.id))</a>",
                HTML.escape(j.name), status(j.id, j.status.rawValue), "\(statuses["active"] ?? 0)",
                "\(statuses.values.reduce(0, +))", "\(activity[j.id]?.recentSends ?? 0)",
            ])
        }
        let body = """
            <h2>Campaigns</h2>
            \(HTML.table(["campaign", "name", "status", "trigger", "channel", "audience (rows decided)", "sent, last 24 h"],
                         rows, numeric: [5, 6]))
            <h2>Journeys</h2>
            \(HTML.table(["journey", "name", "status", "active instances", "instances", "sent, last 24 h"],
                         journeys, numeric: [3, 4, 5]))
            """
        return ConsoleReply.html(HTML.page(title: "Campaigns and journeys", session: session, body: body))
    }

    /// A status as a badge.
    static func badge(_ status: String) -> String {
        "<span class=\"badge \(HTML.escape(status))\">\(HTML.escape(status))</span>"
    }

    /// A trigger in a few words.
    static func trigger(_ t: Campaign.Trigger) -> String {
        switch t {
        case .schedule(let at): "once at " + TimestampParser.formatUTC(seconds: at)
        case .cron(let c, let zone): "cron \(c.text) (\(zone))"
        case .event(let name, _, _): "event \(name)"
        case .enteredSegment: "entered segment"
        case .api: "api"
        }
    }
}
