import ArgumentParser
import HeraldCore
import HeraldLedger

/// `herald journey show|user|stats` (docs/journeys.md, "Command line").
struct JourneyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journey", abstract: "Show a journey's graph, one user's path through it, or its counts.",
        subcommands: [JourneyShowCommand.self, JourneyUserCommand.self, JourneyStatsCommand.self])
}

extension HeraldContext {
    /// The journey with `id` from the campaigns folder, or a reported failure naming what went wrong.
    func journey(_ id: String) throws -> JourneyDefinition {
        let loaded = CampaignSet.loadAll(directory: config.campaignsDirectory, config: config)
        guard let j = loaded.journeys.first(where: { $0.id == id }) else {
            for d in loaded.diagnostics where d.isError { Console.err(d.description) }
            Console.err("error: no journey '\(VisibleText.escape(id))' in \(config.campaignsDirectory)")
            throw ReportedFailure(code: ExitStatus.invalidInput)
        }
        return j
    }
}

extension JourneyGraph.Format: ExpressibleByArgument {}

/// `herald journey show ID [--format text|dot|mermaid]`: the steps and where each leads.
struct JourneyShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Draw a journey's graph (text, Graphviz dot or Mermaid).")

    @OptionGroup var options: ConfigOption
    @Argument(help: "The journey id.") var id: String
    @Option(help: "text, dot or mermaid.") var format: JourneyGraph.Format = .text

    func run() async throws {
        let context = try HeraldContext.load(options)
        Console.out(JourneyGraph.render(try context.journey(id), format: format))
    }
}

/// `herald journey user ID USER`: the user's instances, the path each took, the current step and its due time.
struct JourneyUserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Show one user's instances of a journey: path, current step, due time.")

    @OptionGroup var options: ConfigOption
    @Argument(help: "The journey id.") var id: String
    @Argument(help: "The user id.") var user: String

    func validate() throws { try checkUserArgument(user) }

    func run() async throws {
        let context = try HeraldContext.load(options)
        let ledger = try await context.openBackend().ledger
        let instances = try await ledger.journeyInstances(journey: id, user: user)
        guard !instances.isEmpty else {
            Console.out("\(VisibleText.escape(user)) has no instance of \(VisibleText.escape(id))")
            return
        }
        for i in instances {
            Console.out(
                "instance \(VisibleText.escape(i.id)) (version \(i.version.prefix(8))): \(i.status.rawValue), "
                    + "entered \(TimestampParser.formatUTC(seconds: i.enteredAt))")
            for r in try await ledger.journeyRecords(journey: id, instance: i.id) where r.user == user {
                Console.out(
                    "  \(TimestampParser.formatUTC(seconds: r.at))  \(r.step): \(VisibleText.escape(r.outcome)) → \(r.next)")
            }
            if i.status == .active {
                let due = i.dueAt.map { TimestampParser.formatUTC(seconds: $0) } ?? "on an event"
                Console.out("  now at \(i.step) since \(TimestampParser.formatUTC(seconds: i.reachedAt)), due \(due)")
            }
        }
    }
}
