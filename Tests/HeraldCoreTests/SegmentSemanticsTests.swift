import Testing

@testable import HeraldCore

private let now = SegFixture.now
private let day = SegFixture.day

@Suite("Segment semantics")
struct SegmentSemanticsTests {
    static let bare = SegFixture.user("bare", created: now - 100 * day)
    static let full = SegFixture.user(
        "full", created: now - 100 * day, events: [("purchase", now - 2 * day, 40), ("purchase", now - day, nil)],
        attributes: [
            "country": .string("CN"), "plan": .string("pro"), "avg_order_value": .number(120.5),
            "vip_since": .timestamp(now - 10 * day), "tags": .list(["vip", "beta"]), "first_name": .string("Anna"),
            "newsletter": .bool(false),
        ], engagement: 0.25)

    @Test(
        "null semantics: comparisons with null are false, not of them true",
        arguments: [
            ("country == \"CN\"", false, true),
            ("country != \"CN\"", false, false),
            ("not (country == \"CN\")", true, false),
            ("avg_order_value + 1 > 0", false, true),
            ("avg_order_value * 0 == 0", false, true),
            ("not (avg_order_value > 1000)", true, true),
            ("newsletter == false", false, true),
            ("newsletter != true", false, true),
            ("not newsletter", true, true),
            ("newsletter or true", true, true),
            ("country in [\"CN\", \"HK\"]", false, true),
            ("country not in [\"CN\", \"HK\"]", true, false),
            ("tags contains \"vip\"", false, true),
            ("tags contains \"vi\"", false, false),
            ("first_name contains \"nn\"", false, true),
            ("first_name contains \"\"", false, true),
            ("days_since(vip_since) >= 0", false, true),
            ("days_since(vip_since) == 10", false, true),
            ("vip_since < now - 1w", false, true),
            ("now - vip_since == 10d", false, true),
            ("avg(purchase, amount, 30d) >= 0", false, true),
            ("avg(purchase, amount, 30d) == 40", false, true),
            ("sum(purchase, amount, 30d) == 0", true, false),
            ("sum(purchase, amount, 30d) == 40", false, true),
            ("count(purchase, 30d) == 0", true, false),
            ("count(purchase, 30d) == 2", false, true),
            ("last(purchase) == now - 1d", false, true),
            ("first(purchase) == now - 2d", false, true),
            ("engagement() >= 0", false, true),
            ("engagement() == 0.25", false, true),
            ("rfm_r >= 1", false, true),
            ("1 / 0 == 1 / 0", false, false),
            ("not (1 / 0 == 1)", true, true),
            ("id == \"bare\"", true, false),
            ("email == \"x\"", false, false),
            ("not (email == \"x\")", true, true),
            ("avg_order_value in [120.5, 3]", false, true),
            ("-avg_order_value < -100", false, true),
            ("created_at + 100d == now", true, true),
        ])
    func nulls(_ text: String, _ forBare: Bool, _ forFull: Bool) {
        guard let seg = SegFixture.compile(text) else { return }
        #expect(SegFixture.both(seg, [Self.bare, Self.full]) == [forBare, forFull])
    }

    @Test(
        "window edges to the second",
        arguments: [
            (-30 * 86_400, true), (-30 * 86_400 - 1, false), (0, true), (1, false), (-86_400, true),
        ] as [(Int64, Bool)])
    func windowEdges(_ offset: Int64, _ counts: Bool) {
        let u = SegFixture.user("u", created: now - 400 * day, events: [("open", now + offset, 3)])
        #expect(SegFixture.holds("count(open, 30d) == 1", u) == counts)
        #expect(SegFixture.holds("sum(open, amount, 30d) == 3", u) == counts)
        #expect(SegFixture.holds("avg(open, amount, 30d) == 3", u) == counts)
        #expect(SegFixture.holds("last(open) <= now", u) == (offset <= 0))
        #expect(SegFixture.holds("first(open) <= now", u) == (offset <= 0))
    }

    @Test func laterEventsNeverCount() {
        let u = SegFixture.user(
            "u", created: now - 400 * day, events: [("open", now - 5 * day, nil), ("open", now + 5, nil), ("open", now + 9 * day, nil)])
        #expect(SegFixture.holds("last(open) == now - 5d", u) == true)
        #expect(SegFixture.holds("count(open, 10000d) == 1", u) == true)
        #expect(DerivedFields.lastSeen(u, now: now) == now - 5 * day)
        #expect(DerivedFields.lastSeen(u, now: now + 9 * day) == now + 9 * day)
    }

    @Test(
        "lifecycle stages",
        arguments: [
            ("new", SegFixture.user("a", created: now - 3 * day), LifecycleStage.new),
            ("new at the edge", SegFixture.user("b", created: now - 7 * day), .new),
            ("just past new", SegFixture.user("c", created: now - 7 * day - 1), .lapsing),
            ("returning after a gap", SegFixture.user("d", created: now - 100 * day, events: [("open", now - 60 * day, nil), ("open", now - 2 * day, nil)]), .returning),
            ("returning from created_at", SegFixture.user("e", created: now - 40 * day, events: [("open", now - day, nil)]), .returning),
            ("gap a second short", SegFixture.user("f", created: now - 100 * day, events: [("open", now - 36 * day + 1, nil), ("open", now - 6 * day, nil)]), .active),
            ("gap exactly dormant_after", SegFixture.user("g", created: now - 100 * day, events: [("open", now - 36 * day, nil), ("open", now - 6 * day, nil)]), .returning),
            ("active", SegFixture.user("h", created: now - 100 * day, events: [("open", now - 20 * day, nil), ("open", now - 2 * day, nil)]), .active),
            ("active by imported last_seen_at", SegFixture.user("i", created: now - 400 * day, lastSeen: now - 3 * day), .active),
            ("imported last_seen_at in the future is ignored", SegFixture.user("j", created: now - 400 * day, lastSeen: now + 3 * day), .churned),
            ("lapsing", SegFixture.user("k", created: now - 100 * day, events: [("open", now - 10 * day, nil)]), .lapsing),
            ("dormant", SegFixture.user("l", created: now - 400 * day, events: [("open", now - 100 * day, nil)]), .dormant),
            ("churned", SegFixture.user("m", created: now - 400 * day), .churned),
            ("future events ignored", SegFixture.user("n", created: now - 400 * day, events: [("open", now + day, nil)]), .churned),
            ("no facts at all", SegFixture.user("o"), nil),
        ] as [(String, UserFacts, LifecycleStage?)])
    func lifecycle(_ label: String, _ u: UserFacts, _ stage: LifecycleStage?) {
        let env = SegFixture.env()
        #expect(DerivedFields.lifecycle(u, env) == stage, "\(label)")
        for s in LifecycleStage.allCases {
            #expect(SegFixture.holds("lifecycle == \"\(s.rawValue)\"", u) == (s == stage), "\(label): \(s)")
        }
    }

    static let rfmUsers = [
        SegFixture.user("u1", events: [("purchase", now - day, 10)]),
        SegFixture.user("u2", events: [("purchase", now - 10 * day, 20), ("purchase", now - 5 * day, 30)]),
        SegFixture.user("u3", events: [("purchase", now - 100 * day, 100), ("purchase", now - 50 * day, 100), ("purchase", now - 40 * day, 100)]),
        SegFixture.user("u4", events: [("purchase", now - 3 * day - 3600, 5), ("open", now, nil)]),
        SegFixture.user("u5", events: [("purchase", now - 200 * day, 1000)]),
        SegFixture.user("u6", events: [("purchase", now - 400 * day, 50)]),
        SegFixture.user("u7", events: [("open", now - day, nil)]),
    ]

    @Test func rfmQuintilesOnAHandComputedPopulation() {
        let env = SegFixture.env()
        let pop = PopulationStats.compute(SegFixture.snapshot(Self.rfmUsers), env)
        #expect(pop.purchasers == 5)
        let scores = Self.rfmUsers.map { DerivedFields.rfm($0, env, population: pop).map { [$0.r, $0.f, $0.m] } }
        #expect(scores == [[5, 1, 2], [3, 4, 3], [2, 5, 4], [4, 1, 1], [1, 1, 5], nil, nil])
        guard let seg = SegFixture.compile("rfm_m >= 4 and rfm_f >= 4") else { return }
        #expect(SegFixture.both(seg, Self.rfmUsers) == [false, false, true, false, false, false, false])
        #expect(seg.requirements.events == ["purchase"])
        #expect(seg.requirements.eventNumbers == ["purchase": ["amount"]])
        guard let r = SegFixture.compile("rfm_r == 4 or rfm_r == 5") else { return }
        #expect(SegFixture.both(r, Self.rfmUsers) == [true, false, false, true, false, false, false])
    }

    @Test(
        "birthdays in the user's local date",
        arguments: [
            ("same day UTC", now, nil, CivilDate(year: 1990, month: 11, day: 23), "UTC", true),
            ("next day UTC", now, nil, CivilDate(year: 1990, month: 11, day: 24), "UTC", false),
            ("29 Feb kept on 28 Feb in 2027", CivilDate(year: 2027, month: 2, day: 28).midnightUTC + 43_200, nil, CivilDate(year: 2000, month: 2, day: 29), "UTC", true),
            ("29 Feb not on 1 Mar 2027", CivilDate(year: 2027, month: 3, day: 1).midnightUTC + 43_200, nil, CivilDate(year: 2000, month: 2, day: 29), "UTC", false),
            ("29 Feb not on 28 Feb 2028", CivilDate(year: 2028, month: 2, day: 28).midnightUTC + 43_200, nil, CivilDate(year: 2000, month: 2, day: 29), "UTC", false),
            ("29 Feb on 29 Feb 2028", CivilDate(year: 2028, month: 2, day: 29).midnightUTC + 43_200, nil, CivilDate(year: 2000, month: 2, day: 29), "UTC", true),
            ("Shanghai is already on the 24th", CivilDate(year: 2026, month: 11, day: 23).midnightUTC + 20 * 3600, "Asia/Shanghai", CivilDate(year: 1990, month: 11, day: 24), "UTC", true),
            ("Shanghai is past the 23rd", CivilDate(year: 2026, month: 11, day: 23).midnightUTC + 20 * 3600, "Asia/Shanghai", CivilDate(year: 1990, month: 11, day: 23), "UTC", false),
            ("New York is still on the 22nd", CivilDate(year: 2026, month: 11, day: 23).midnightUTC + 3 * 3600, "America/New_York", CivilDate(year: 1990, month: 11, day: 22), "UTC", true),
            ("default zone applies without one", CivilDate(year: 2026, month: 11, day: 23).midnightUTC + 20 * 3600, nil, CivilDate(year: 1990, month: 11, day: 24), "Asia/Shanghai", true),
            ("default zone applies to an invalid one", CivilDate(year: 2026, month: 11, day: 23).midnightUTC + 20 * 3600, "Mars/Base", CivilDate(year: 1990, month: 11, day: 24), "Asia/Shanghai", true),
        ] as [(String, Int64, String?, CivilDate, String, Bool)])
    func birthdays(_ label: String, _ at: Int64, _ zone: String?, _ birthday: CivilDate, _ defaultZone: String, _ expected: Bool) {
        let u = SegFixture.user("b", created: at - 400 * day, timezone: zone, birthday: birthday)
        #expect(SegFixture.holds("is_birthday()", u, SegFixture.env(at, zone: defaultZone)) == expected, "\(label)")
    }

    @Test func inSegmentInlinesNamedSegments() {
        let named = [
            SegmentSource(name: "vip", text: "rfm_m >= 4", origin: SourceOrigin(file: "herald.yaml", line: 20, column: 8)),
            SegmentSource(name: "loyal", text: "in_segment(vip) and count(purchase, 365d) >= 3", origin: SourceOrigin(file: "herald.yaml", line: 21, column: 10)),
        ]
        let (catalog, diags) = SegmentCompiler.catalog(named, schema: SegFixture.schema)
        #expect(diags.isEmpty)
        #expect(catalog.names == ["loyal", "vip"])
        guard let seg = SegFixture.compile("in_segment(\"loyal\") and not in_segment(vip)", catalog: catalog) else { return }
        #expect(seg.treeDescription == "(and (and (>= rfm_m 4) (>= (count purchase 365d) 3)) (not (>= rfm_m 4)))")
        #expect(SegFixture.both(seg, Self.rfmUsers).allSatisfy { !$0 })
        #expect(catalog.segment(named: "loyal")?.treeDescription == "(and (>= rfm_m 4) (>= (count purchase 365d) 3))")
        #expect(catalog.segment(named: "loyal")?.source.origin.line == 21)
        #expect(catalog.segment(named: "nope") == nil)
        guard let loyal = SegFixture.compile("in_segment(loyal)", catalog: catalog) else { return }
        #expect(SegFixture.both(loyal, Self.rfmUsers) == [false, false, true, false, false, false, false])
    }

    @Test(
        "cycles are named",
        arguments: [
            ([("vip", "in_segment(loyal)"), ("loyal", "in_segment(\"vip\") and newsletter")], ["segments refer to each other in a cycle: vip -> loyal -> vip"]),
            ([("a", "in_segment(a)")], ["segments refer to each other in a cycle: a -> a"]),
            ([("a", "in_segment(b)"), ("b", "in_segment(c)"), ("c", "in_segment(a)"), ("d", "in_segment(a)")],
             ["segment 'a' has errors and cannot be used", "segments refer to each other in a cycle: a -> b -> c -> a"]),
            ([("a", "in_segment(nope)")], ["unknown segment 'nope'"]),
            ([("a", "in_segment(b)"), ("b", "country ==")], ["expected a value, found the end of the expression", "segment 'b' has errors and cannot be used"]),
        ] as [([(String, String)], [String])])
    func cycles(_ defs: [(String, String)], _ messages: [String]) {
        let named = defs.enumerated().map { k, d in
            SegmentSource(name: d.0, text: d.1, origin: SourceOrigin(file: "herald.yaml", line: 30 + k, column: 8))
        }
        let (catalog, diags) = SegmentCompiler.catalog(named, schema: SegFixture.schema)
        #expect(Set(diags.map(\.message)) == Set(messages))
        #expect(catalog.names.isEmpty)
        #expect(diags.allSatisfy { $0.location?.file == "herald.yaml" })
    }

    @Test func requirementsListEventsAndProperties() {
        guard let seg = SegFixture.compile("count(open, 3d) > 1 and avg(order, total, 3d) > 2 and last(click) < now") else { return }
        #expect(seg.requirements.events == ["open", "order", "click"])
        #expect(seg.requirements.eventNumbers == ["order": ["total"]])
    }
}

@Suite("Segment derived fields and bulk splitting")
struct SegmentDerivedTests {
    @Test(
        "last_seen_at",
        arguments: [
            (SegFixture.user("a", created: now - 50 * day, events: [("open", now - 5 * day, nil)], lastSeen: now - 2 * day), now - 2 * day),
            (SegFixture.user("b", created: now - 50 * day, events: [("open", now - 5 * day, nil)], lastSeen: now - 9 * day), now - 5 * day),
            (SegFixture.user("c", created: now - 50 * day), now - 50 * day),
            (SegFixture.user("d", created: now - 50 * day, lastSeen: now + 1), now - 50 * day),
            (SegFixture.user("e", events: [("open", now, nil)]), now),
            (SegFixture.user("f"), nil),
        ] as [(UserFacts, Int64?)])
    func lastSeen(_ u: UserFacts, _ expected: Int64?) {
        #expect(DerivedFields.lastSeen(u, now: now) == expected)
        #expect(SegFixture.holds("last_seen_at == now - 1s + 1s", u) == (expected == now))
        if let expected {
            #expect(SegFixture.holds("last_seen_at == date(\"1970-01-01\") + \(expected)s", u) == true)
        }
    }

    @Test func bulkSplitAcrossThreadsKeepsRowOrder() {
        let n = 150_001
        var snap = AudienceSnapshot()
        snap.ids = (0..<n).map { "u\($0)" }
        snap.email = Array(repeating: nil, count: n)
        snap.phone = Array(repeating: nil, count: n)
        snap.locale = Array(repeating: nil, count: n)
        snap.timezone = Array(repeating: -1, count: n)
        snap.createdAt = Array(repeating: AudienceSnapshot.nullTime, count: n)
        snap.lastSeenImported = Array(repeating: AudienceSnapshot.nullTime, count: n)
        snap.birthday = Array(repeating: AudienceSnapshot.nullTime, count: n)
        snap.engagement = Array(repeating: .nan, count: n)
        snap.allEvents = EventColumn(offsets: Array(repeating: 0, count: n + 1), timestamps: [])
        snap.attributes["avg_order_value"] = .number((0..<n).map { Double($0 % 100) })
        guard let seg = SegFixture.compile("avg_order_value > 50") else { return }
        let env = SegFixture.env()
        let bulk = seg.evaluate(snap, env, population: .empty)
        #expect(bulk.count == n)
        #expect(bulk.enumerated().allSatisfy { $0.element == ($0.offset % 100 > 50) })
        for i in [0, 51, 75_000, 75_001, 75_051, n - 1] {
            #expect(seg.matches(snap.facts(row: i), env, population: .empty) == bulk[i])
        }
    }
}
