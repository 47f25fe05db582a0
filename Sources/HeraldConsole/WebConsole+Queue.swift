import Foundation
import HeraldCore
import HeraldDelivery
import HeraldLedger
import Hummingbird

extension WebConsole {
    /// The queue (rows waiting by status, and how many are due) and each provider gate of this daemon: its
    /// rate, its daily quota and its circuit breaker.
    func queuePage(_ session: ConsoleSession) async throws -> Response {
        let now = deps.clock()
        let queue = try await deps.ledger.queue(now: now)
        var rows: [[String]] = []
        for status in [LedgerStatus.scheduled, .failed, .sending] {
            let q = queue[status] ?? (waiting: 0, due: 0)
            let note =
                switch status {
                case .scheduled: "planned; due once their send time has come"
                case .failed: "a retry is planned; due once its back-off has passed"
                default: "claimed by a dispatcher; due again if its lease expired"
                }
            rows.append([
                status.rawValue, "<span id=\"queue-\(status.rawValue)\">\(q.waiting)</span>",
                "<span id=\"due-\(status.rawValue)\">\(q.due)</span>", note,
            ])
        }
        var body = "<h2>Queue</h2>" + HTML.table(["status", "rows", "due now", ""], rows, numeric: [1, 2])
        let gates = deps.gates().sorted { $0.key.description < $1.key.description }
        body += "<h2>Providers</h2>"
        body += HTML.table(
            ["provider", "rate (now / configured, per s)", "quota today", "breaker"],
            gates.map { key, gate in
                [HTML.escape(key.description),
                 String(format: "%.1f / %.1f", gate.bucket.currentRate, gate.bucket.rate),
                 gate.quota.map { "\($0.used(at: Double(now))) of \($0.limit)" } ?? "none",
                 HTML.escape(Self.breaker(gate, now: Double(now)))]
            })
        body += "<p class=\"note\">Rates and breakers are this daemon's; each daemon sharing a store keeps its own.</p>"
        return ConsoleReply.html(HTML.page(title: "Queue and providers", session: session, body: body))
    }

    /// The breaker's state in words.
    static func breaker(_ gate: ProviderGate, now: Double) -> String {
        let state: String =
            switch gate.breaker.state {
            case .closed(let failures): failures == 0 ? "closed" : "closed (\(failures) failures in a row)"
            case .open(let until): "open for \(Int((until - now).rounded(.up))) s more"
            case .halfOpen: "half-open (probing)"
            }
        return gate.refusingLogin ? state + "; the provider refused the login" : state
    }
}
