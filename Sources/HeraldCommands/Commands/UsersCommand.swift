import ArgumentParser
import Foundation
import HeraldCore
import HeraldLedger

/// `herald users …`.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Import and inspect users.",
        subcommands: [UsersImportCommand.self, UsersShowCommand.self])
}

/// `herald users show USER`: profile, derived fields, preferences, activity heatmap.
struct UsersShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a user's profile, derived fields, preferences and activity.")

    @OptionGroup var options: ConfigOption
    @Argument(help: "The user id.") var user: String
    @Option(help: "Derive fields at this time (ISO-8601 with offset, or epoch); default now.") var at: String?

    func validate() throws { try checkUserArgument(user) }

    func run() async throws {
        let context = try HeraldContext.load(options)
        let now = try parseAt(at)
        let (store, ledger) = try await context.openBackend()
        guard let facts = try await store.facts(id: user) else {
            Console.err("error: no user '\(user)' in the store")
            throw ReportedFailure(code: ExitStatus.invalidInput)
        }
        let env = context.environment(now: now)
        // RFM scores are quintiles over everyone, so they need the population.
        let snapshot = try await store.snapshot(PopulationStats.requirements)
        let population = PopulationStats.compute(snapshot, env)
        // The one engagement value planning and the caps read: measured from the ledger at `now`.
        let engagement = try await ledger.engagement(
            users: [user], now: now, goals: Campaign.conversionGoals(context.campaigns().campaigns))[user]
        let p = facts.profile
        let zones = ZoneTable.shared
        let zoneNote: String
        if let tz = p.timezone {
            zoneNote = zones.isValid(tz) ? tz : "\(tz) (unknown; \(env.defaultTimeZone) applies)"
        } else {
            zoneNote = "- (\(env.defaultTimeZone) applies)"
        }
        func time(_ t: Int64?) -> String { t.map { TimestampParser.formatUTC(seconds: $0) } ?? "-" }
        var rows: [(String, String)] = [
            ("id", p.id), ("email", p.email ?? "-"), ("phone", p.phone ?? "-"), ("timezone", zoneNote),
            ("locale", p.locale ?? "-"), ("created_at", time(p.createdAt)),
            ("birthday", p.birthday?.description ?? "-"),
        ]
        for name in context.config.attributes.names {
            rows.append((name, Self.render(p.attributes[name] ?? .null)))
        }
        Console.out("Profile")
        Self.printPairs(rows)

        let stage = DerivedFields.lifecycle(facts, env)
        let rfm = DerivedFields.rfm(facts, env, population: population)
        Console.out("\nDerived at \(TimestampParser.formatUTC(seconds: now))")
        Self.printPairs([
            ("last_seen_at", time(DerivedFields.lastSeen(facts, now: now))),
            ("lifecycle", stage?.rawValue ?? "-"),
            ("rfm_r rfm_f rfm_m", rfm.map { "\($0.r) \($0.f) \($0.m)" } ?? "- (no purchase in the RFM window)"),
            ("engagement", engagement?.summary ?? Engagement.noSends),
        ])

        let prefs = try await store.preferences(userID: user)
        Console.out("\nPreferences")
        Self.printPairs(Self.describe(prefs))

        let devices = try await store.devices(userID: user)
        if !devices.isEmpty {
            Console.out("\nPush devices")
            var table = TextTable(header: ["platform", "token", "registered", "state"])
            for d in devices {
                let state = d.active ? "active" : "inactive: \(d.deactivatedReason ?? "-") at \(time(d.deactivatedAt))"
                // Tokens are credentials: the last four characters only, as in logs.
                table.add([d.registration.platform.rawValue, "…" + d.registration.token.suffix(4), time(d.registeredAt), state])
            }
            table.render().forEach { Console.out(VisibleText.escape($0)) }
        }

        Console.out("\nEvents")
        var table = TextTable(header: ["event", "count", "first", "last"])
        for (name, series) in facts.events.sorted(by: { $0.key < $1.key }) {
            table.add([name, "\(series.timestamps.count)", time(series.timestamps.first), time(series.timestamps.last)])
        }
        table.render().forEach(Console.out)

        let zone = p.timezone.flatMap { zones.isValid($0) ? $0 : nil } ?? env.defaultTimeZone
        Console.out("\nActivity by local hour of week (\(zone), \(facts.allEventTimes.count) events)")
        Heatmap(times: facts.allEventTimes, zone: zone).render().forEach(Console.out)
    }

    static func printPairs(_ pairs: [(String, String)]) {
        let width = pairs.map(\.0.count).max() ?? 0
        for (k, v) in pairs {
            Console.out("  " + k + String(repeating: " ", count: width - k.count) + "  " + VisibleText.escape(v))
        }
    }

    static func render(_ v: Value) -> String {
        switch v {
        case .null: "-"
        case .bool(let b): "\(b)"
        case .number(let n): JSONLine.number(n)
        case .string(let s): s
        case .timestamp(let t): TimestampParser.formatUTC(seconds: t)
        case .list(let l): "[" + l.joined(separator: ", ") + "]"
        }
    }

    static func describe(_ prefs: Preferences) -> [(String, String)] {
        var rows: [(String, String)] = [("all messages", prefs.globalOptOut ? "opted out" : "opted in")]
        for (channel, out) in prefs.channels.sorted(by: { $0.key < $1.key }) {
            rows.append(("channel \(channel)", out ? "opted out" : "opted in"))
        }
        for (topic, out) in prefs.topics.sorted(by: { $0.key < $1.key }) {
            rows.append(("topic \(topic)", out ? "opted out" : "opted in"))
        }
        if let t = prefs.updatedAt { rows.append(("updated", TimestampParser.formatUTC(seconds: t))) }
        return rows
    }
}
