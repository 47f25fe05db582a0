import HeraldCore
import HeraldLedger
import Hummingbird

extension WebConsole {
    /// One journey: its graph with the users at and through each step, and its instances by status.
    func journeyPage(_ id: String, _ session: ConsoleSession) async throws -> Response {
        guard let journey = deps.book().journey(id) else { return notFound("No journey \(id).", session) }
        let counts = try await deps.ledger.journeySteps(journey: id)
        let statuses = try await deps.ledger.journeyStatusCounts(journey: id)
        var body = "<p>\(HTML.escape(journey.name)) · \(Self.badge(journey.status.rawValue)) · version "
        body += "\(HTML.escape(String(journey.version.hex.prefix(12))))</p>"
        body += Self.pauseSection(id, journey: true, controls: try await deps.ledger.controls(), csrf: session.csrf)
        body += "<h2>Graph</h2>" + JourneyDiagram.svg(journey, counts: counts)
        body += "<h2>Steps</h2>"
        body += HTML.table(
            ["step", "what", "at now", "through"],
            journey.steps.map { s in
                [HTML.escape(s.id), HTML.escape(JourneyGraph.summary(s)),
                 "<span id=\"at-\(HTML.escape(s.id))\">\(counts.at[s.id] ?? 0)</span>",
                 "<span id=\"through-\(HTML.escape(s.id))\">\(counts.through[s.id] ?? 0)</span>"]
            }, numeric: [2, 3])
        body += "<h2>Instances</h2>"
        body += HTML.table(
            ["status", "instances"], statuses.sorted { $0.key < $1.key }.map { [HTML.escape($0.key), "\($0.value)"] },
            numeric: [1])
        return ConsoleReply.html(HTML.page(title: "Journey \(id)", session: session, body: body))
    }
}
