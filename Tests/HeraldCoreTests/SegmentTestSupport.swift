import Testing

@testable import HeraldCore

/// Shared fixtures for the segment tests.
enum SegFixture {
    static let day: Int64 = 86_400
    /// 2026-11-23T10:00:00Z
    static let now: Int64 = CivilDate(year: 2026, month: 11, day: 23).midnightUTC + 10 * 3600

    static let schema = AttributeSchema([
        "country": .string, "plan": .string, "avg_order_value": .number, "vip_since": .timestamp,
        "tags": .list, "first_name": .string, "newsletter": .bool,
    ])

    static func env(_ now: Int64 = now, zone: String = "UTC") -> EvaluationEnvironment {
        EvaluationEnvironment(now: now, defaultTimeZone: zone)
    }

    static func source(_ text: String, name: String? = nil) -> SegmentSource {
        SegmentSource(name: name, text: text, origin: SourceOrigin(file: "test.yaml"))
    }

    /// Compiles `text`, recording an issue when it does not compile.
    static func compile(_ text: String, catalog: SegmentCatalog = .empty) -> CompiledSegment? {
        let (seg, diags) = SegmentCompiler.compile(source(text), schema: schema, catalog: catalog)
        if seg == nil || !diags.isEmpty {
            Issue.record("\(text) did not compile: \(diags.map(\.description).joined(separator: "\n"))")
        }
        return seg
    }

    /// The diagnostics of compiling `text`.
    static func errors(_ text: String, origin: SourceOrigin = SourceOrigin(file: "test.yaml"), catalog: SegmentCatalog = .empty)
        -> [Diagnostic]
    {
        let (seg, diags) = SegmentCompiler.compile(SegmentSource(text: text, origin: origin), schema: schema, catalog: catalog)
        if seg != nil { Issue.record("\(text) compiled but should not have") }
        return diags
    }

    /// A user with events given as (name, time, amount?).
    static func user(
        _ id: String, created: Int64? = nil, events: [(String, Int64, Double?)] = [], attributes: [String: Value] = [:],
        timezone: String? = nil, birthday: CivilDate? = nil, lastSeen: Int64? = nil, engagement: Double? = nil
    ) -> UserFacts {
        var series: [String: EventSeries] = [:]
        for (name, t, amount) in events.sorted(by: { $0.1 < $1.1 }) {
            var s = series[name] ?? EventSeries()
            s.timestamps.append(t)
            if amount != nil || s.numbers["amount"] != nil {
                var a = s.numbers["amount"] ?? Array(repeating: Double.nan, count: s.timestamps.count - 1)
                a.append(amount ?? .nan)
                s.numbers["amount"] = a
            }
            series[name] = s
        }
        return UserFacts(
            profile: UserProfile(
                id: id, timezone: timezone, createdAt: created, birthday: birthday, lastSeenAt: lastSeen,
                attributes: attributes),
            events: series, allEventTimes: events.map(\.1).sorted(), engagement: engagement)
    }

    /// A columnar snapshot holding exactly `users` (the inverse of `AudienceSnapshot.facts(row:)`).
    static func snapshot(_ users: [UserFacts], schema: AttributeSchema = schema) -> AudienceSnapshot {
        AudienceSnapshot(facts: users, schema: schema)
    }

    /// Evaluates `seg` both ways over `users`, expecting them to agree, and returns the bulk answer.
    static func both(
        _ seg: CompiledSegment, _ users: [UserFacts], _ env: EvaluationEnvironment = env(),
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> [Bool] {
        let snap = snapshot(users)
        let pop = PopulationStats.compute(snap, env)
        let bulk = seg.evaluate(snap, env, population: pop)
        #expect(bulk.count == users.count, sourceLocation: sourceLocation)
        for (i, u) in users.enumerated() {
            let single = seg.matches(u, env, population: pop)
            #expect(single == bulk[i], "user \(u.profile.id) for \(seg.source.text)", sourceLocation: sourceLocation)
        }
        return bulk
    }

    /// Compiles and evaluates `text` for one user both ways.
    static func holds(
        _ text: String, _ user: UserFacts, _ env: EvaluationEnvironment = env(),
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> Bool? {
        guard let seg = compile(text) else { return nil }
        return both(seg, [user], env, sourceLocation: sourceLocation).first
    }
}
