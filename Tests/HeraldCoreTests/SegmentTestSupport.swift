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
        var s = AudienceSnapshot()
        var zones: [String: Int32] = [:]
        for u in users {
            let p = u.profile
            s.ids.append(p.id)
            s.email.append(p.email)
            s.phone.append(p.phone)
            s.locale.append(p.locale)
            if let z = p.timezone {
                if zones[z] == nil {
                    zones[z] = Int32(s.timezoneNames.count)
                    s.timezoneNames.append(z)
                }
                s.timezone.append(zones[z]!)
            } else {
                s.timezone.append(-1)
            }
            s.createdAt.append(p.createdAt ?? AudienceSnapshot.nullTime)
            s.lastSeenImported.append(p.lastSeenAt ?? AudienceSnapshot.nullTime)
            s.birthday.append(p.birthday?.midnightUTC ?? AudienceSnapshot.nullTime)
            s.engagement.append(u.engagement ?? .nan)
            s.allEvents.timestamps += u.allEventTimes
            s.allEvents.offsets.append(s.allEvents.timestamps.count)
        }
        for (name, type) in schema.types {
            let values = users.map { $0.profile.attributes[name] ?? .null }
            switch type {
            case .number: s.attributes[name] = .number(values.map { if case .number(let v) = $0 { v } else { .nan } })
            case .bool: s.attributes[name] = .bool(values.map { if case .bool(let v) = $0 { v ? 1 : 0 } else { -1 } })
            case .timestamp:
                s.attributes[name] = .timestamp(values.map { if case .timestamp(let v) = $0 { v } else { AudienceSnapshot.nullTime } })
            case .string:
                var dict: [String] = []
                let codes = values.map { v -> Int32 in
                    guard case .string(let x) = v else { return -1 }
                    if let k = dict.firstIndex(of: x) { return Int32(k) }
                    dict.append(x)
                    return Int32(dict.count - 1)
                }
                s.attributes[name] = .string(codes: codes, dictionary: dict)
            case .list:
                var dict: [String] = []
                var offsets: [Int32] = [0]
                var codes: [Int32] = []
                var isNull: [Bool] = []
                for v in values {
                    if case .list(let items) = v {
                        for x in items {
                            if let k = dict.firstIndex(of: x) { codes.append(Int32(k)) } else {
                                dict.append(x)
                                codes.append(Int32(dict.count - 1))
                            }
                        }
                        isNull.append(false)
                    } else {
                        isNull.append(true)
                    }
                    offsets.append(Int32(codes.count))
                }
                s.attributes[name] = .list(offsets: offsets, codes: codes, dictionary: dict, isNull: isNull)
            }
        }
        let names = Set(users.flatMap { $0.events.keys })
        for name in names {
            let props = Set(users.flatMap { $0.events[name]?.numbers.keys.map { $0 } ?? [] })
            var col = EventColumn(offsets: [0], timestamps: [])
            for p in props { col.numbers[p] = [] }
            for u in users {
                let series = u.events[name] ?? EventSeries()
                col.timestamps += series.timestamps
                for p in props {
                    col.numbers[p]! += series.numbers[p] ?? Array(repeating: .nan, count: series.timestamps.count)
                }
                col.offsets.append(col.timestamps.count)
            }
            s.events[name] = col
        }
        return s
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
