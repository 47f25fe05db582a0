import Testing

@testable import HeraldCore

/// `CompiledSegment.explain`: the sub-expressions that decided a segment for one user, with their values.
@Suite("Segment: explaining a result")
struct SegmentExplainTests {
    typealias F = SegFixture

    static func explain(_ text: String, _ user: UserFacts) throws -> [String] {
        let seg = try #require(F.compile(text))
        let env = F.env()
        let pop = PopulationStats.compute(F.snapshot([user]), env)
        return seg.explain(user, env, population: pop)
    }

    static let buyer = F.user(
        "u1", events: [("purchase", F.now - 2 * F.day, 30)], attributes: ["country": .string("CN")],
        engagement: 0)

    @Test func aFalseAndNamesEachFalseConjunctWithItsValues() throws {
        #expect(
            try Self.explain(#"country == "US" and count("purchase", 30d) >= 2 and id != """#, Self.buyer)
                == [
                    #"(== country "US") is false: country = "CN""#,
                    "(>= (count purchase 30d) 2) is false: (count purchase 30d) = 1",
                ])
    }

    @Test func aFalseOrNamesEveryDisjunctAndNotLooksInside() throws {
        #expect(
            try Self.explain(#"plan in ["pro", "team"] or not (engagement() == 0)"#, Self.buyer) == [
                #"(in plan ["pro" "team"]) is false: plan = null"#,
                "(== (engagement) 0) is true: (engagement) = 0",
            ])
    }

    @Test func aTrueResultNamesWhatMadeItTrue() throws {
        #expect(
            try Self.explain(#"country == "CN" or avg_order_value > 100"#, Self.buyer) == [
                #"(== country "CN") is true: country = "CN""#
            ])
        // Times print as timestamps and durations as durations.
        #expect(
            try Self.explain("now - last(\"purchase\") < 1d", Self.buyer) == [
                "(< (- now (last purchase)) 1d) is false: (- now (last purchase)) = 2d"
            ])
        #expect(
            try Self.explain("newsletter", Self.buyer) == ["newsletter is false: newsletter = null"])
    }
}
