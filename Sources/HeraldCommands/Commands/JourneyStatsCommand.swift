import ArgumentParser
import HeraldCore
import HeraldLedger

/// `herald journey stats ID` (also `herald stats ID`): instances by status, each step's reached and outcomes,
/// and each path's instances and conversion (docs/journeys.md, "Statistics").
struct JourneyStatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Count a journey's instances by status, each step's outcomes, and conversion per path.",
        discussion: """
            A path is the steps an instance went through and how it ended (its final status, or "at STEP" while
            it is active). A user converted when the journey's conversion event happened from the moment they
            entered to conversion.within after it: the same reference on every path, so a control path that
            sends nothing compares fairly with the others.
            """)

    @OptionGroup var options: ConfigOption
    @Argument(help: "The journey id.") var id: String
    @Option(help: "table, or json: one object.") var format: OutputFormat = .table

    func run() async throws {
        let context = try HeraldContext.load(options)
        let journey = try context.journey(id)
        let (store, ledger) = try await context.openBackend()
        let instances = try await ledger.journeyInstances(journey: id)
        var conversions: [String: [Int64]] = [:]
        if let goal = journey.conversion, !instances.isEmpty {
            let snapshot = try await store.snapshot(SnapshotRequirements(events: [goal.event]))
            let entered = Set(instances.map(\.user))
            for row in 0..<snapshot.count where entered.contains(snapshot.ids[row]) {
                conversions[snapshot.ids[row]] = snapshot.facts(row: row).events[goal.event]?.timestamps ?? []
            }
        }
        let stats = JourneyPathStats(
            journey: journey, instances: instances, records: try await ledger.journeyRecords(journey: id),
            conversions: conversions)
        if format == .json {
            Console.out(json(stats, journey))
        } else {
            table(stats, journey)
        }
    }

    func table(_ stats: JourneyPathStats, _ journey: JourneyDefinition) {
        Console.out("\(id): \(stats.statuses.values.reduce(0, +)) instances")
        for (status, n) in stats.statuses.sorted(by: { $0.key < $1.key }) { Console.out("  \(status): \(n)") }
        Console.out("")
        var steps = TextTable(header: ["step", "kind", "reached", "there now", "outcomes"])
        for (step, s) in zip(journey.steps, stats.steps) {
            steps.add([
                s.step, step.kind.name, String(s.reached), String(s.current),
                s.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
            ])
        }
        steps.render().forEach(Console.out)
        Console.out("")
        guard let goal = journey.conversion else {
            var paths = TextTable(header: ["path", "instances"])
            for p in stats.paths { paths.add([p.text, String(p.instances)]) }
            paths.render().forEach(Console.out)
            Console.out("no conversion goal configured: add conversion: { event: …, within: … } for rates per path")
            return
        }
        var paths = TextTable(header: ["path", "instances", "converted", "rate"])
        for p in stats.paths {
            let converted = p.converted ?? 0
            paths.add([p.text, String(p.instances), String(converted), Self.percent(converted, p.instances)])
        }
        paths.render().forEach(Console.out)
        Console.out(
            "converted: \(goal.event) within \(DurationSpec.format(goal.within)) of entering the journey")
    }

    func json(_ stats: JourneyPathStats, _ journey: JourneyDefinition) -> String {
        var line = JSONLine()
        line.add("journey", id)
        line.add("instances", stats.statuses.values.reduce(0, +))
        line.addRaw("statuses", JourneyDryRun.object(stats.statuses))
        line.addRaw(
            "steps",
            "["
                + zip(journey.steps, stats.steps).map { step, s in
                    var o = JSONLine()
                    o.add("step", s.step)
                    o.add("kind", step.kind.name)
                    o.add("reached", s.reached)
                    o.add("current", s.current)
                    o.addRaw("outcomes", JourneyDryRun.object(s.outcomes))
                    return o.text
                }.joined(separator: ",") + "]")
        line.add("conversion_event", journey.conversion?.event)
        line.addRaw(
            "paths",
            "["
                + stats.paths.map { p in
                    var o = JSONLine()
                    o.addRaw("steps", "[" + p.steps.map(JSONLine.quote).joined(separator: ",") + "]")
                    o.add("end", p.end)
                    o.add("instances", p.instances)
                    if let c = p.converted {
                        o.add("converted", c)
                        o.add("rate", p.instances == 0 ? nil : Double(c) / Double(p.instances))
                    } else {
                        o.addRaw("converted", "null")
                        o.addRaw("rate", "null")
                    }
                    return o.text
                }.joined(separator: ",") + "]")
        return line.text
    }

    static func percent(_ n: Int, _ of: Int) -> String {
        of == 0 ? "-" : String(format: "%.1f%%", Double(n) * 100 / Double(of))
    }
}
