import ArgumentParser
import Foundation
import HeraldCore
import HeraldLedger

/// `herald audience EXPR`: evaluates a segment expression against the store.
struct AudienceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audience",
        abstract: "Count and preview the users a segment expression matches.",
        discussion: """
            Examples:
              herald audience 'lifecycle == "dormant" and count(purchase, 180d) >= 2'
              herald audience --campaign winback-dormant --count
            """)

    @OptionGroup var options: ConfigOption
    @Argument(help: "A segment expression (docs/segments.md).") var expression: String?
    @Option(help: "Use this campaign's or journey's audience (segment minus exclude) instead of an expression.")
    var campaign: String?
    @Option(help: "Evaluate at this time (ISO-8601 with offset, or epoch); default now.") var at: String?
    @Flag(help: "Print only the count.") var count = false
    @Option(help: "How many matching users to show.") var show = 10
    @Option(help: "table, or json: one {\"id\": …} line per match.") var format: OutputFormat = .table

    func validate() throws {
        if (expression == nil) == (campaign == nil) {
            throw ValidationError("give either an expression or --campaign ID")
        }
    }

    func run() async throws {
        let context = try HeraldContext.load(options)
        let now = try parseAt(at)
        var segments: [(CompiledSegment, Bool)] = []  // (segment, isExclusion)
        if let expression {
            let source = SegmentSource(text: expression, origin: SourceOrigin(file: "<expression>"))
            let (compiled, diagnostics) = SegmentCompiler.compile(
                source, schema: context.config.attributes, catalog: context.config.catalog)
            if report(diagnostics) { throw ReportedFailure(code: ExitStatus.invalidInput) }
            guard let compiled else { throw ReportedFailure(code: ExitStatus.invalidInput) }
            segments.append((compiled, false))
        } else if let campaign {
            // A journey's audience is who may enter it (docs/journeys.md).
            let loaded = CampaignSet.loadAll(directory: context.config.campaignsDirectory, config: context.config)
            let audiences = loaded.campaigns.map { ($0.id, $0.audience) } + loaded.journeys.map { ($0.id, $0.audience) }
            guard let found = audiences.first(where: { $0.0 == campaign })?.1 else {
                report(loaded.diagnostics)
                let hint = NearMiss.didYouMean(campaign, among: audiences.map(\.0)).map { " (\($0))" } ?? ""
                Console.err("error: no campaign '\(campaign)' in \(context.config.campaignsDirectory)\(hint)")
                throw ReportedFailure(code: ExitStatus.invalidInput)
            }
            segments.append((found.segment, false))
            if let exclude = found.exclude { segments.append((exclude, true)) }
        }
        let (store, ledger) = try await context.openBackend()
        let requirements = segments.reduce(SnapshotRequirements()) { $0.union($1.0.requirements) }
            .union(PopulationStats.requirements)
        var snapshot = try await store.snapshot(requirements)
        if requirements.engagement {
            try await PlanningSource.fillEngagement(
                &snapshot, ledger: ledger, now: now, goals: Campaign.conversionGoals(context.campaigns().campaigns))
        }
        let env = context.environment(now: now)
        let population = PopulationStats.compute(snapshot, env)
        var match = [Bool](repeating: true, count: snapshot.count)
        for (segment, isExclusion) in segments {
            let result = segment.evaluate(snapshot, env, population: population)
            for i in 0..<match.count where match[i] { match[i] = isExclusion ? !result[i] : result[i] }
        }
        let rows = match.indices.filter { match[$0] }
        if format == .json {
            for i in rows {
                var line = JSONLine()
                line.add("id", snapshot.ids[i])
                Console.out(line.text)
            }
            return
        }
        if count {
            Console.out("\(rows.count)")
            return
        }
        Console.out("\(rows.count) of \(snapshot.count) users match at \(TimestampParser.formatUTC(seconds: now))")
        guard show > 0, !rows.isEmpty else { return }
        var table = TextTable(header: ["id", "email", "timezone", "lifecycle"])
        for i in rows.prefix(show) {
            let facts = snapshot.facts(row: i)
            let stage = DerivedFields.lifecycle(facts, env)?.rawValue ?? "-"
            table.add([snapshot.ids[i], snapshot.email[i] ?? "-", facts.profile.timezone ?? "-", stage])
        }
        Console.out("")
        table.render().forEach(Console.out)
    }
}
