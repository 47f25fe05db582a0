// libFuzzer entry point: lexer + parser + checker (and both evaluators when it compiles) on arbitrary bytes.
// Built by Fuzz/run.sh together with the HeraldCore sources it needs.

private let schema = AttributeSchema([
    "country": .string, "plan": .string, "avg_order_value": .number, "vip_since": .timestamp, "tags": .list,
    "newsletter": .bool,
])

private let now: Int64 = 1_795_000_000

private let users: [UserFacts] = [
    UserFacts(profile: UserProfile(id: "a")),
    UserFacts(
        profile: UserProfile(
            id: "b", timezone: "Asia/Shanghai", createdAt: now - 40 * 86_400,
            birthday: CivilDate(year: 2000, month: 2, day: 29), lastSeenAt: now - 86_400,
            attributes: [
                "country": .string("CN"), "avg_order_value": .number(12), "tags": .list(["vip"]),
                "newsletter": .bool(true), "vip_since": .timestamp(now - 9 * 86_400),
            ]),
        events: ["purchase": EventSeries(timestamps: [now - 86_400, now], numbers: ["amount": [3, .nan]])],
        allEventTimes: [now - 86_400, now], engagement: 0.5),
]

private let snapshot: AudienceSnapshot = {
    var s = AudienceSnapshot()
    s.ids = ["a", "b"]
    s.email = [nil, nil]
    s.phone = [nil, nil]
    s.locale = [nil, nil]
    s.timezone = [-1, 0]
    s.timezoneNames = ["Asia/Shanghai"]
    s.createdAt = [AudienceSnapshot.nullTime, now - 40 * 86_400]
    s.lastSeenImported = [AudienceSnapshot.nullTime, now - 86_400]
    s.birthday = [AudienceSnapshot.nullTime, CivilDate(year: 2000, month: 2, day: 29).midnightUTC]
    s.engagement = [.nan, 0.5]
    s.attributes = [
        "country": .string(codes: [-1, 0], dictionary: ["CN"]), "avg_order_value": .number([.nan, 12]),
        "tags": .list(offsets: [0, 0, 1], codes: [0], dictionary: ["vip"], isNull: [true, false]),
        "newsletter": .bool([-1, 1]), "vip_since": .timestamp([AudienceSnapshot.nullTime, now - 9 * 86_400]),
    ]
    s.events["purchase"] = EventColumn(offsets: [0, 0, 2], timestamps: [now - 86_400, now], numbers: ["amount": [3, .nan]])
    s.allEvents = EventColumn(offsets: [0, 0, 2], timestamps: [now - 86_400, now])
    return s
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func segmentFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let origin = SourceOrigin(file: "fuzz.yaml", line: 3, column: 9, continuationColumn: 5)
    let (catalog, catalogDiags) = SegmentCompiler.catalog(
        [SegmentSource(name: "a", text: text, origin: origin),
         SegmentSource(name: "b", text: "in_segment(a) or in_segment(b2)", origin: origin),
         SegmentSource(name: "b2", text: "true", origin: origin)], schema: schema)
    for d in catalogDiags { _ = d.description }
    let (seg, diags) = SegmentCompiler.compile(SegmentSource(text: text, origin: origin), schema: schema, catalog: catalog)
    for d in diags {
        precondition(d.location != nil && d.length >= 1)
        _ = d.description
    }
    if let seg {
        let env = EvaluationEnvironment(now: now)
        let pop = PopulationStats.compute(snapshot, env)
        let bulk = seg.evaluate(snapshot, env, population: pop)
        for (i, u) in users.enumerated() {
            precondition(seg.matches(u, env, population: pop) == bulk[i], "evaluators disagree on \(text)")
        }
    }
    return 0
}
