import Foundation
import HeraldCore
import HeraldLedger

/// Prints `herald logs` rows and followed changes: a table whose columns keep the widths of the first window
/// (so followed lines stay under the header), or one JSON object per line. Every line is written straight
/// to stdout, unbuffered, so a pipe sees each change as it lands.
struct LogsPrinter: Sendable {
    /// Table or JSON lines.
    let format: OutputFormat
    /// The column titles padded to their widths.
    private let header: [String]

    /// The column titles.
    static let titles = [
        "time", "campaign", "user", "channel", "address", "status", "attempts", "reason/error",
    ]
    /// Widths that fit a typical row, so that a short or empty window does not make followed lines ragged.
    static let minimumWidths = [20, 16, 10, 7, 20, 10, 8, 0]

    /// A printer sized for `window`.
    init(format: OutputFormat, window: [LedgerEntry]) {
        self.format = format
        var widths = zip(Self.titles, Self.minimumWidths).map { max($0.count, $1) }
        for e in window {
            for (i, cell) in Self.cells(e, at: e.updatedAt, status: e.status, reason: e.reason).enumerated() {
                widths[i] = max(widths[i], cell.count)
            }
        }
        header = zip(Self.titles, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
    }

    /// Prints the window: the table with its header (even when empty), or a JSON line per row.
    func printWindow(_ rows: [LedgerEntry]) {
        if format == .json {
            for e in rows { Console.out(Self.json(e)) }
            return
        }
        var table = TextTable(header: header)
        for e in rows { table.add(Self.cells(e, at: e.updatedAt, status: e.status, reason: e.reason)) }
        table.render().forEach(Console.out)
    }

    /// Prints one followed change: the row with the change's status, reason, attempts and time.
    func print(_ change: LedgerChange) {
        let t = change.transition
        var e = change.entry
        e.status = t.to
        e.reason = t.reason
        e.updatedAt = t.at
        e.attempts = change.attempts
        if format == .json {
            Console.out(Self.json(e, change: change))
            return
        }
        var table = TextTable(header: header)
        table.add(Self.cells(e, at: t.at, status: t.to, reason: t.reason))
        if let line = table.render().last { Console.out(line) }
    }

    /// The table cells of row `e` as of a change at `at` to `status` for `reason`.
    static func cells(_ e: LedgerEntry, at: Int64, status: LedgerStatus, reason: String?) -> [String] {
        // The error belongs to failures; on a later `sent` it is only the story of an earlier attempt.
        let failed: Set<LedgerStatus> = [.failed, .bounced, .dead]
        let error = failed.contains(status) ? e.error : nil
        let note = [reason, error].compactMap { $0 }.joined(separator: "; ")
        // Missing values stay empty: a "-" would read as a number and be right-aligned.
        // Escaped here, not only by the table: the widths of the first window are measured on these cells.
        return [
            TimestampParser.formatUTC(seconds: at), e.campaign, e.user, e.channel?.rawValue ?? "",
            e.address.map(ContactValidator.mask) ?? "", status.rawValue, "\(e.attempts)", note,
        ].map(VisibleText.escape)
    }

    /// Every column of `e` as one JSON object; a followed change adds its history id and previous status.
    static func json(_ e: LedgerEntry, change: LedgerChange? = nil) -> String {
        /// An ISO-8601 UTC time, or nil.
        func time(_ t: Int64?) -> String? { t.map { TimestampParser.formatUTC(seconds: $0) } }
        var line = JSONLine()
        line.add("id", Int(e.id ?? 0))
        if let change {
            line.add("history_id", Int(change.sequence))
            line.add("from_status", change.transition.from?.rawValue)
        }
        line.add("idempotency_key", e.idempotencyKey)
        line.add("campaign", e.campaign)
        line.add("occurrence", e.occurrence)
        line.add("topic", e.topic)
        line.add("transactional", e.transactional)
        line.add("variant", e.variant)
        line.add("user", e.user)
        line.add("channel", e.channel?.rawValue)
        line.add("address", e.address.map(ContactValidator.mask))
        line.add("status", e.status.rawValue)
        line.add("reason", e.reason)
        line.add("scheduled_at", time(e.scheduledAt))
        line.add("attempts", e.attempts)
        line.add("provider_message_id", e.providerMessageID)
        line.add("error", e.error)
        line.add("created_at", time(e.createdAt))
        line.add("updated_at", time(e.updatedAt))
        line.add("trigger_at", time(e.triggerAt))
        line.add("window_end", time(e.windowEnd))
        line.add("sent_at", time(e.sentAt))
        line.add("opened_at", time(e.openedAt))
        line.add("clicked_at", time(e.clickedAt))
        return line.text
    }
}
