import ArgumentParser
import HeraldCore
import HeraldLedger

/// `herald why USER CAMPAIGN`: what the ledger recorded for the user and campaign (the decisions made and what
/// became of them), then the same pipeline as dry-run re-deciding as of `--at`, check by check — a hypothetical
/// on the data as it is now, labelled so.
struct WhyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "why", abstract: "Explain one user's decision for a campaign, check by check.",
        discussion: """
            First the rows the ledger recorded for USER × CAMPAIGN (occurrence, status, reason, scheduled_at,
            attempts, and each row's status history): what actually happened. Then the decision re-evaluated as
            of --at against the current audience, consent and ledger, check by check: a hypothetical, which can
            differ from what was recorded (caps, consent and the audience change over time). A segment that does
            not match names the conditions that failed, with their values.
            Example: herald why u-123 winback-dormant --at 2026-12-07T01:00:00Z
            """)

    @OptionGroup var options: ConfigOption
    @Argument(help: "The user id.") var user: String
    @Argument(help: "The campaign id.") var campaign: String
    @Option(
        help:
            "Re-decide at this time (ISO-8601 with offset, or epoch); default now, or a one-shot schedule's instant."
    )
    var at: String?
    @Option(
        help: """
            table, or json: one object per recorded ledger row ("recorded": its key), one per check of the \
            re-evaluation ("hypothetical": true), then the re-evaluated decision as dry-run prints it.
            """)
    var format: OutputFormat = .table

    func validate() throws { try checkUserArgument(user) }

    func run() async throws {
        let context = try HeraldContext.load(options)
        // For a journey: the path taken, the current step and its due time (`herald journey user`).
        if CampaignSet.loadAll(directory: context.config.campaignsDirectory, config: context.config).journeys
            .contains(where: { $0.id == self.campaign })
        {
            var path = JourneyUserCommand()
            path.options = options
            path.id = self.campaign
            path.user = user
            try await path.run()
            return
        }
        let loader = PlanningLoader(context: context)
        let campaign = try loader.campaign(self.campaign)
        let (occurrence, now) = try PlanningLoader.occurrence(of: campaign, at: at)
        let backend = try await context.openBackend()
        let pipeline = try await loader.pipeline(campaign, occurrence: occurrence, now: now, backend: backend)
        guard let (d, checks) = pipeline.explain(user: user) else {
            Console.err("error: no user '\(user)' in the store")
            throw ReportedFailure(code: ExitStatus.invalidInput)
        }
        let recorded = try await WhyRecorded.load(backend.ledger, user: user, campaign: campaign.id)
        if format == .json {
            recorded.jsonLines().forEach(Console.out)
            for c in checks {
                var line = JSONLine()
                line.add("check", c.name)
                line.add("passed", c.passed)
                line.add("detail", c.detail)
                line.add("hypothetical", true)
                Console.out(line.text)
            }
            Console.out(DryRunCommand.json(d))
            return
        }
        recorded.lines(user: user, campaign: campaign.id).forEach(Console.out)
        let engagement = try await backend.ledger.engagement(
            users: [user], now: now, goals: Campaign.conversionGoals(context.campaigns().campaigns))[user]
        Console.out("")
        Console.out(
            "Re-evaluated as of \(TimestampParser.formatUTC(seconds: now)) — hypothetical: the audience, consent and "
                + "ledger as they are now, not what was recorded.")
        Console.out("\(user) × \(campaign.id), occurrence \(occurrence.id)")
        Console.out("engagement: \(engagement?.summary ?? Engagement.noSends)")
        var table = TextTable(header: ["check", "result", "detail"])
        for c in checks { table.add([c.name, c.passed ? "pass" : "stop", c.detail]) }
        table.render().forEach(Console.out)
        let when = d.sendAt.map { " at \(TimestampParser.formatUTC(seconds: $0))" } ?? ""
        Console.out("")
        Console.out(
            "re-evaluated outcome: \(d.outcome.rawValue)\(d.reason.map { " (\($0))" } ?? "")\(d.channel.map { " via \($0.rawValue)" } ?? "")\(when)"
        )
    }
}
