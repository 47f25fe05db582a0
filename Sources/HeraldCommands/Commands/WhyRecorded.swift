import HeraldCore
import HeraldLedger

/// What the ledger recorded for one user and campaign — the decisions that were actually made and what became
/// of them — which `herald why` shows before its hypothetical re-evaluation.
struct WhyRecorded {
    /// The rows, newest first, each with its status changes, oldest first.
    let rows: [(entry: LedgerEntry, history: [LedgerTransition])]

    /// Rows shown at most (a recurring campaign may have decided the user many times).
    static let limit = 20

    /// The newest `limit` rows of `user` for `campaign`, with their histories.
    static func load(_ ledger: any DispatchLedger, user: String, campaign: String) async throws -> WhyRecorded
    {
        var rows: [(LedgerEntry, [LedgerTransition])] = []
        for e in try await ledger.entries(campaign: campaign, user: user, status: nil, limit: limit) {
            rows.append((e, try await ledger.history(key: e.idempotencyKey)))
        }
        return WhyRecorded(rows: rows)
    }

    static func time(_ t: Int64?) -> String { t.map { TimestampParser.formatUTC(seconds: $0) } ?? "-" }

    /// The human report: a table of the rows, then each row's status history.
    func lines(user: String, campaign: String) -> [String] {
        guard !rows.isEmpty else {
            return [
                "Recorded: no ledger row for \(user) × \(campaign) (nothing was decided for this user yet)."
            ]
        }
        var out = ["Recorded in the ledger (what happened), newest first:"]
        var table = TextTable(header: [
            "occurrence", "status", "reason", "channel", "scheduled_at", "attempts", "sent_at", "opened_at",
            "clicked_at",
        ])
        for (e, _) in rows {
            table.add([
                e.occurrence ?? "-", e.status.rawValue, e.reason ?? "-",
                (e.channel?.rawValue ?? "-") + (e.address.map { " → " + ContactValidator.mask($0) } ?? ""),
                Self.time(e.scheduledAt), "\(e.attempts)", Self.time(e.sentAt), Self.time(e.openedAt),
                Self.time(e.clickedAt),
            ])
        }
        out += table.render()
        for (e, history) in rows {
            out.append("")
            out.append("history of \(e.idempotencyKey)\(e.variant.map { " (variant \($0))" } ?? ""):")
            for h in history {
                let from = h.from.map { "\($0.rawValue) → " } ?? ""
                out.append(
                    "  \(Self.time(h.at))  \(from)\(h.to.rawValue)\(h.reason.map { " (\($0))" } ?? "")")
            }
        }
        return out
    }

    /// One JSON object per row, newest first, with its history.
    func jsonLines() -> [String] {
        rows.map { e, history in
            var line = JSONLine()
            line.add("recorded", e.idempotencyKey)
            line.add("occurrence", e.occurrence)
            line.add("status", e.status.rawValue)
            line.add("reason", e.reason)
            line.add("variant", e.variant)
            line.add("channel", e.channel?.rawValue)
            for (key, t) in [
                ("scheduled_at", e.scheduledAt), ("sent_at", e.sentAt), ("opened_at", e.openedAt),
                ("clicked_at", e.clickedAt), ("created_at", e.createdAt),
            ] {
                line.add(key, t.map { TimestampParser.formatUTC(seconds: $0) })
            }
            line.add("attempts", e.attempts)
            let changes = history.map { h -> String in
                var c = JSONLine()
                c.add("from", h.from?.rawValue)
                c.add("to", h.to.rawValue)
                c.add("reason", h.reason)
                c.add("at", TimestampParser.formatUTC(seconds: h.at))
                return c.text
            }
            line.addRaw("history", "[" + changes.joined(separator: ",") + "]")
            return line.text
        }
    }
}
