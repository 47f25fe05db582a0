import HeraldCore
import HeraldLedger

/// `herald dry-run JOURNEY [--simulate D]` (docs/journeys.md, "Dry runs"): the audience enters at once and
/// moves as the daemon would move it if nothing more happened; per step, the users reaching it day by day
/// and how it ended for them. Written nowhere.
struct JourneyDryRun {
    let context: HeraldContext
    let journey: JourneyDefinition
    /// `--at`: when the audience enters (default now, or a one-shot schedule's instant).
    let at: String?
    /// `--simulate`: how long to follow the users, seconds; nil: only where they stand at entry.
    let horizon: Int64?
    let format: OutputFormat

    func run() async throws {
        let start: Int64
        if case .schedule(let instant) = journey.trigger, at == nil { start = instant } else { start = try parseAt(at) }
        let (store, ledger) = try await context.openBackend()
        let inputs = try await PlanningSource.inputs(
            store: store, ledger: ledger, config: context.config,
            campaigns: journey.steps.compactMap(journey.messageCampaign(for:)), now: start,
            goals: Campaign.conversionGoals(context.campaigns().campaigns), extra: journey.requirements)
        let sim = JourneySimulation.run(
            journey, inputs: inputs, start: start, horizon: horizon ?? 0, keepDecisions: horizon == nil)
        if format == .json {
            json(sim)
        } else {
            table(sim, of: inputs.snapshot.count)
        }
    }

    func table(_ sim: JourneySimulation, of population: Int) {
        let utc = TimestampParser.formatUTC
        Console.out("journey    \(journey.id) (\(journey.name))")
        if journey.status != .active {
            Console.out("status     \(journey.status.rawValue): the daemon will not run it; simulated here anyway")
        }
        Console.out("entry      \(sim.entered) of \(population) users at \(utc(sim.start)) (\(Self.describe(journey.trigger)))")
        if let horizon {
            Console.out(
                "simulated  \(sim.days) day\(sim.days == 1 ? "" : "s") (to \(utc(sim.start + horizon))), assuming no "
                    + "further events: every wait_for times out, nothing is opened or clicked")
        } else {
            Console.out("simulated  the moment of entry only (--simulate 14d follows the users further)")
        }
        Console.out("")
        let days = horizon == nil ? [] : (1...sim.days).map { "day \($0)" }
        var table = TextTable(header: ["step", "kind", "reached"] + days + ["outcomes"])
        for step in journey.steps {
            let counts = sim.steps[step.id] ?? .init(reachedByDay: [])
            table.add(
                [step.id, step.kind.name, String(counts.reached)]
                    + (horizon == nil ? [] : counts.reachedByDay.map(String.init))
                    + [Self.list(counts.outcomes)])
        }
        table.render().forEach(Console.out)
        Console.out("")
        Console.out("ended      " + (sim.ended.isEmpty ? "none" : Self.list(sim.ended)))
        Console.out("still in   " + (sim.waiting.isEmpty ? "none" : Self.list(sim.waiting)))
    }

    /// One line per step (and one for `exit`), each with `"step"`; without `--simulate`, then one line per
    /// message decision at entry, also with its `"step"`.
    func json(_ sim: JourneySimulation) {
        for step in journey.steps {
            let counts = sim.steps[step.id] ?? .init(reachedByDay: [])
            var line = JSONLine()
            line.add("journey", journey.id)
            line.add("step", step.id)
            line.add("kind", step.kind.name)
            line.add("reached", counts.reached)
            line.addRaw("days", "[" + counts.reachedByDay.map(String.init).joined(separator: ",") + "]")
            line.addRaw("outcomes", Self.object(counts.outcomes))
            line.add("waiting", sim.waiting[step.id] ?? 0)
            Console.out(line.text)
        }
        var exit = JSONLine()
        exit.add("journey", journey.id)
        exit.add("step", "exit")
        exit.add("entered", sim.entered)
        exit.add("reached", sim.ended.values.reduce(0, +))
        exit.addRaw("outcomes", Self.object(sim.ended))
        Console.out(exit.text)
        for (step, d) in sim.decisions {
            let line = DryRunCommand.json(d)
            Console.out(#"{"step":\#(JSONLine.quote(step)),"# + String(line.dropFirst()))
        }
    }

    static func list(_ counts: [String: Int]) -> String {
        counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    static func object(_ counts: [String: Int]) -> String {
        "{" + counts.sorted { $0.key < $1.key }.map { "\(JSONLine.quote($0.key)):\($0.value)" }.joined(separator: ",")
            + "}"
    }

    static func describe(_ trigger: Campaign.Trigger) -> String {
        switch trigger {
        case .event(let name, _, _): "event \(name): every member as if it happened now"
        case .schedule: "schedule"
        case .cron: "cron: one fire"
        case .enteredSegment: "entered_segment: every member as if newly entered"
        case .api: "api: one call for the whole audience"
        }
    }
}
