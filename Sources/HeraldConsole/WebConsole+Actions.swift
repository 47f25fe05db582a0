import HeraldCore
import HeraldLedger
import Hummingbird

extension WebConsole {
    /// What a console button does.
    enum Action: String, CaseIterable {
        case pause, resume, haltRollout = "rollout/halt", resumeRollout = "rollout/resume"

        /// The store switch it flips, and which way.
        var control: (kind: CampaignControls.Kind, on: Bool) {
            switch self {
            case .pause: (.paused, true)
            case .resume: (.paused, false)
            case .haltRollout: (.rolloutHalted, true)
            case .resumeRollout: (.rolloutHalted, false)
            }
        }
    }

    /// Adds the POST routes of the actions (behind the session and CSRF check of `pages`).
    func mountActions(on pages: RouterGroup<HeraldRequestContext>) {
        for action in Action.allCases {
            pages.post("campaigns/{id}/\(action.rawValue)") { request, context in
                try await act(action, id: try Self.parameter("id", context), journey: false, request, context.session!)
            }
        }
        for action in [Action.pause, .resume] {
            pages.post("journeys/{id}/\(action.rawValue)") { request, context in
                try await act(action, id: try Self.parameter("id", context), journey: true, request, context.session!)
            }
        }
    }

    /// Flips the switch in the store, where every daemon on it reads it at its next scheduler tick, then
    /// returns to the page the button was on.
    func act(_ action: Action, id: String, journey: Bool, _ request: Request, _ session: ConsoleSession) async throws
        -> Response
    {
        let book = deps.book()
        let known = journey ? book.journey(id) != nil : book.campaign(id) != nil
        guard known else { return notFound("No \(journey ? "journey" : "campaign") \(id).", session) }
        let reason = (await Self.form(request))?["reason"].flatMap { $0.isEmpty ? nil : String($0.prefix(500)) }
        let (kind, on) = action.control
        try await deps.ledger.setControl(subject: id, kind: kind, on: on, by: "console", reason: reason, at: deps.clock())
        deps.logger.notice(
            "console: \(action.rawValue)", metadata: ["subject": "\(id)", "reason": "\(reason ?? "-")"])
        return ConsoleReply.redirect("/console/\(journey ? "journeys" : "campaigns")/\(HTML.component(id))")
    }

    /// The pause/resume control of a campaign or journey: its switch in the store, and the button that flips it.
    static func pauseSection(_ id: String, journey: Bool, controls: CampaignControls, csrf: String) -> String {
        let base = "/console/\(journey ? "journeys" : "campaigns")/\(HTML.component(id))"
        if let note = controls.paused[id] {
            return "<div id=\"control\"><span class=\"badge paused\">paused</span> by \(HTML.escape(note.by)) at "
                + "\(HTML.time(note.at))\(note.reason.map { ": " + HTML.escape($0) } ?? "") "
                + HTML.button("Resume", action: base + "/resume", csrf: csrf) + "</div>"
        }
        return "<div id=\"control\">Running (not paused in the store). "
            + HTML.action("Pause", action: base + "/pause", csrf: csrf) + "</div>"
            + "<p class=\"note\">A pause takes effect on every daemon of this store within a scheduler tick: "
            + "nothing new is planned and due rows wait unsent until it is resumed.</p>"
    }
}
