import ArgumentParser
import Foundation
import HeraldCore
import HeraldLedger

/// `herald dry-run CAMPAIGN`: the decisions of one occurrence, computed by the real pipeline, written nowhere.
struct DryRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dry-run",
        abstract: "Plan a campaign occurrence without writing or sending anything.",
        discussion: """
            Prints the audience size, the count of each outcome and reason, the variant/holdout split, a histogram
            of planned send times by recipient-local hour and N fully rendered sample messages.
            Examples:
              herald dry-run winback-dormant --at 2026-12-07T01:00:00Z
              herald dry-run vip-offer --format json
            A journey (docs/journeys.md): the audience enters at --at and, with --simulate, is followed as the
            daemon would move it if nothing more happened; per step, the users reaching it day by day.
              herald dry-run onboarding --simulate 14d
            """)

    @OptionGroup var options: ConfigOption
    @Argument(help: "The campaign id.") var campaign: String
    @Option(
        help:
            "Plan at this time (ISO-8601 with offset, or epoch); default now, or a one-shot schedule's instant."
    )
    var at: String?
    @Option(help: "How many rendered sample messages to show.") var show = 3
    @Option(help: "table, or json: one decision object per line.") var format: OutputFormat = .table
    @Option(help: "A journey only: follow the users this long (e.g. 14d), assuming no further events.")
    var simulate: String?

    func run() async throws {
        let context = try HeraldContext.load(options)
        let journeys = CampaignSet.loadAll(directory: context.config.campaignsDirectory, config: context.config).journeys
        if let journey = journeys.first(where: { $0.id == self.campaign }) {
            let horizon = try simulate.map { text in
                guard let s = DurationSpec.seconds(text), s > 0, s <= 366 * 86_400 else {
                    throw ValidationError("--simulate '\(text)': expected a duration such as 14d (at most 366d)")
                }
                return s
            }
            try await JourneyDryRun(context: context, journey: journey, at: at, horizon: horizon, format: format).run()
            return
        }
        if simulate != nil { throw ValidationError("--simulate applies to journeys; '\(self.campaign)' is not one") }
        let loader = PlanningLoader(context: context)
        let campaign = try loader.campaign(self.campaign)
        let (occurrence, now) = try PlanningLoader.occurrence(of: campaign, at: at)
        let pipeline = try await loader.pipeline(campaign, occurrence: occurrence, now: now)
        let decisions = pipeline.plan()  // the sink: this command only prints
        if format == .json {
            for d in decisions { Console.out(Self.json(d)) }
            return
        }
        DryRunReport(
            campaign: campaign, occurrence: occurrence, now: now, decisions: decisions,
            inputs: pipeline.inputs,
            publicURL: context.config.api.publicURL, samples: show
        ).print()
    }

    /// One decision as docs/cli.md JSON object.
    static func json(_ d: Decision) -> String {
        var line = JSONLine()
        line.add("user", d.user)
        line.add("campaign", d.campaign)
        line.add("outcome", d.outcome.rawValue)
        line.add("reason", d.reason)
        line.add("variant", d.variant)
        line.add("channel", d.channel?.rawValue)
        line.add("send_at", d.sendAt.map { TimestampParser.formatUTC(seconds: $0) })
        return line.text
    }
}
