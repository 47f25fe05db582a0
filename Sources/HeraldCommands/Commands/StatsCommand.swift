import ArgumentParser
import HeraldCore
import HeraldLedger

/// `herald stats [CAMPAIGN]`: the funnel from decision to conversion, and each variant against the holdout.
struct StatsCommand: AsyncParsableCommand {
    /// The name, help (with the definitions and the interval method) and examples.
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show each campaign's funnel and its variants' conversion against the holdout.",
        discussion: """
            The funnel counts ledger rows (one per user and occurrence) by current status: audience (every row
            decided), holdout, suppressed by reason, pending (planned, scheduled or sending), sent, delivered,
            failed (a retry is due), dead (retries exhausted), bounced, expired, cancelled, then opened and clicked (a first open / click recorded),
            and converted. "sent" is every row the provider accepted: sent, delivered or bounced, or any row with
            a recorded send time. "converted" counts sent rows whose user had the campaign's conversion event
            from sent_at to conversion.within after it, both ends included, to the second.

            The experiment table counts users. Holdout and variants are drawn by the same hash before consent,
            contact and caps, so each arm counts every user assigned to it (intent to treat): a sent user from
            sent_at, any other user (the holdout, and a variant's suppressed users) from the trigger time, else
            the scheduled time. The lift is the variant's conversion rate minus the holdout's, in percentage
            points, with a 95% confidence interval by Newcombe's hybrid score method (the Wilson score interval
            of each rate, combined; Newcombe 1998, method 10). An arm under 30 users gets "n too small" instead.
            A campaign without `conversion:` says so instead of rates.
            Examples:
              herald stats
              herald stats vip-offer --format json
            """)

    @OptionGroup var options: ConfigOption
    @Argument(help: "A campaign id; default every campaign with ledger rows.") var campaign: String?
    @Option(help: "table, or json: one object per campaign.") var format: OutputFormat = .table

    /// Prints one funnel per campaign; an id that is neither configured nor in the ledger exits 65.
    func run() async throws {
        let context = try HeraldContext.load(options)
        // A journey's counts are per step and per path (`herald journey stats`).
        if let id = campaign,
            CampaignSet.loadAll(directory: context.config.campaignsDirectory, config: context.config).journeys
                .contains(where: { $0.id == id })
        {
            var stats = JourneyStatsCommand()
            stats.options = options
            stats.id = id
            stats.format = format
            try await stats.run()
            return
        }
        let configured = context.campaigns().campaigns
        let goals = Dictionary(
            configured.compactMap { c in c.conversion.map { (c.id, $0) } },
            uniquingKeysWith: { first, _ in first })
        let ledger = try await context.openBackend().ledger
        var funnels = try await LogsCommand.reading {
            try await ledger.funnels(campaign: campaign, goals: goals)
        }
        if let campaign, funnels.isEmpty {
            // A configured campaign that has decided nothing yet has an empty funnel; anything else is a typo.
            guard configured.contains(where: { $0.id == campaign }) else {
                let logged = try await LogsCommand.reading { try await ledger.campaigns() }
                let hint = NearMiss.didYouMean(campaign, among: Set(logged + configured.map(\.id)))
                Console.err(
                    "error: no campaign '\(campaign)' in \(context.config.campaignsDirectory) or the ledger"
                        + (hint.map { " (\($0))" } ?? ""))
                throw ReportedFailure(code: ExitStatus.invalidInput)
            }
            var empty = CampaignFunnel(campaign: campaign)
            if goals[campaign] != nil { empty.converted = 0 }
            funnels = [empty]
        }
        let known = Set(configured.map(\.id))
        for (i, funnel) in funnels.enumerated() {
            let goal: StatsReport.Goal =
                goals[funnel.campaign].map { .configured($0) }
                ?? (known.contains(funnel.campaign) ? .none : .unknown)
            let report = StatsReport(funnel: funnel, goal: goal)
            if format == .json {
                Console.out(report.json())
            } else {
                if i > 0 { Console.out("") }
                report.table().forEach(Console.out)
                if let c = configured.first(where: { $0.id == funnel.campaign }) {
                    try await LogsCommand.reading { try await ExperimentStatus.lines(c, ledger: ledger) }.forEach(Console.out)
                }
            }
        }
        if funnels.isEmpty, format == .table { Console.out("no decisions in the ledger yet") }
    }
}
