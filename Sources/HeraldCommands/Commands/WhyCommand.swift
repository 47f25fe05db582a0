import ArgumentParser
import HeraldCore
import HeraldStore

/// `herald why USER CAMPAIGN`: one user's decision, check by check, from the same pipeline as dry-run.
struct WhyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "why", abstract: "Explain one user's decision for a campaign, check by check.",
        discussion: "Example: herald why u-123 winback-dormant --at 2026-12-07T01:00:00Z")

    @OptionGroup var options: ConfigOption
    @Argument(help: "The user id.") var user: String
    @Argument(help: "The campaign id.") var campaign: String
    @Option(
        help:
            "Decide at this time (ISO-8601 with offset, or epoch); default now, or a one-shot schedule's instant."
    )
    var at: String?
    @Option(help: "table, or json: one object per check, then the decision as dry-run prints it.")
    var format: OutputFormat = .table

    func validate() throws { try checkUserArgument(user) }

    func run() async throws {
        let context = try HeraldContext.load(options)
        let loader = PlanningLoader(context: context)
        let campaign = try loader.campaign(self.campaign)
        let (occurrence, now) = try PlanningLoader.occurrence(of: campaign, at: at)
        let pipeline = try await loader.pipeline(campaign, occurrence: occurrence, now: now)
        guard let (d, checks) = pipeline.explain(user: user) else {
            Console.err("error: no user '\(user)' in the store")
            throw ReportedFailure(code: ExitStatus.invalidInput)
        }
        if format == .json {
            for c in checks {
                var line = JSONLine()
                line.add("check", c.name)
                line.add("passed", c.passed)
                line.add("detail", c.detail)
                Console.out(line.text)
            }
            Console.out(DryRunCommand.json(d))
            return
        }
        Console.out(
            "\(user) × \(campaign.id), occurrence \(occurrence.id), decided at \(TimestampParser.formatUTC(seconds: now))"
        )
        var table = TextTable(header: ["check", "result", "detail"])
        for c in checks { table.add([c.name, c.passed ? "pass" : "stop", c.detail]) }
        table.render().forEach(Console.out)
        let when = d.sendAt.map { " at \(TimestampParser.formatUTC(seconds: $0))" } ?? ""
        Console.out("")
        Console.out(
            "outcome: \(d.outcome.rawValue)\(d.reason.map { " (\($0))" } ?? "")\(d.channel.map { " via \($0.rawValue)" } ?? "")\(when)"
        )
    }
}
