import ArgumentParser
import Foundation
import HeraldCore
import HeraldLedger

/// `herald logs`: the send log (the ledger), filtered, and optionally followed as it changes.
struct LogsCommand: AsyncParsableCommand {
    /// The name, help and examples.
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Show the send log, and follow its status changes as they happen.",
        discussion: """
            Prints the newest --limit rows that match every filter given, oldest first: the time of the row's last
            change, campaign, user, channel, masked address, status, attempts, and the reason or error.
            --follow then prints each status change as it is committed, by this machine's heraldd or any other
            process sharing the store (checked every 500 ms), until SIGINT or SIGTERM, which exit 0. --status and
            the other filters apply to the changes too (--status: the status changed to).
            --format json prints one object per row with every column, the address masked and times as ISO-8601
            UTC; a followed change adds "history_id" and "from_status", with the status, reason, attempts and
            updated_at of the change itself.
            Examples:
              herald logs --campaign vip-offer --since 24h
              herald logs --user u-123 --status bounced --format json
              herald logs --follow --status dead
            """)

    @OptionGroup var options: ConfigOption
    @Option(help: "Only this campaign.") var campaign: String?
    @Option(help: "Only this user.") var user: String?
    @Option(
        help: ArgumentHelp(
            "Only this status: \(LedgerStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
    )
    var status: String?
    @Option(
        help:
            "Only rows changed since: a duration back from now (30m, 24h, 7d) or a time (ISO-8601 with offset, or epoch)."
    )
    var since: String?
    @Flag(help: "After the rows, keep printing status changes until interrupted.") var follow = false
    @Option(help: "How many of the newest matching rows to print (0: all).") var limit = 100
    @Option(help: "table, or json: one object per row.") var format: OutputFormat = .table

    /// Rejects a status, a --since or a --limit that cannot be used, before anything is opened (exit 64).
    func validate() throws {
        _ = try Self.status(status)
        _ = try Self.since(since, now: 0)
        guard limit >= 0 else { throw ValidationError("--limit \(limit): give 0 (all) or a positive count") }
    }

    /// Prints the window, then with --follow the changes after it.
    func run() async throws {
        let context = try HeraldContext.load(options)
        let now = Int64(Date().timeIntervalSince1970)
        let filter = LedgerFilter(
            campaign: campaign, user: user, status: try Self.status(status),
            since: try Self.since(since, now: now))
        // SQLite: read-only, the ledger's tables are the daemon's to create; until then there is nothing to show.
        let ledger = try await context.openBackend().ledger
        let page = try await Self.reading { try await ledger.window(filter, limit: limit == 0 ? nil : limit) }
        let printer = LogsPrinter(format: format, window: page.items)
        printer.printWindow(page.items)
        if page.items.isEmpty, let campaign {
            try await Self.hintUnknown(campaign, ledger: ledger, context: context)
        }
        guard follow else { return }
        let follower = LogsFollower(ledger: ledger, filter: filter, printer: printer)
        try await Self.reading { try await follower.run(from: page.cursor) }
    }

    /// The `--status` value as a status; a usage error naming the closest status otherwise.
    static func status(_ text: String?) throws -> LedgerStatus? {
        guard let text else { return nil }
        if let status = LedgerStatus(rawValue: text) { return status }
        let names = LedgerStatus.allCases.map(\.rawValue)
        let hint = NearMiss.didYouMean(text, among: names).map { " (\($0))" } ?? ""
        throw ValidationError(
            "--status '\(text)': not a ledger status\(hint); expected one of \(names.joined(separator: ", "))"
        )
    }

    /// The `--since` value as epoch seconds: a duration back from `now`, or a time.
    static func since(_ text: String?, now: Int64) throws -> Int64? {
        guard let text else { return nil }
        if let back = DurationSpec.seconds(text) { return now - back }
        guard let at = try? parseAt(text) else {
            throw ValidationError(
                "--since '\(text)': expected a duration such as 24h or 7d, or a time (ISO-8601 with offset, or epoch)"
            )
        }
        return at
    }

    /// Runs a ledger read; a store error is reported and exits 69 (the store is unavailable).
    static func reading<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            Console.err("error: cannot read the ledger: \(error)")
            throw ReportedFailure(code: ExitStatus.unavailable)
        }
    }

    /// Notes on stderr that `campaign` is neither configured nor in the ledger (a typo, most likely), with the
    /// closest id that is; a configured campaign that has decided nothing yet is simply empty.
    static func hintUnknown(_ campaign: String, ledger: any DispatchLedger, context: HeraldContext) async throws {
        let known = Set(try await reading { try await ledger.campaigns() })
            .union(context.campaigns().campaigns.map(\.id))
        guard !known.contains(campaign) else { return }
        let hint = NearMiss.didYouMean(campaign, among: known).map { " (\($0))" } ?? ""
        Console.err("note: no campaign '\(campaign)' in the campaigns folder or the ledger\(hint)")
    }
}
