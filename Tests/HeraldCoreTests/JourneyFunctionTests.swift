import Foundation
import Testing

@testable import HeraldCore

/// A scope of four steps: welcome (message), day-1 (wait), pick (branch, the one checked), later (message).
private let scope = JourneyFunctionScope(
    steps: [
        .init(id: "welcome", kind: "message"), .init(id: "day-1", kind: "wait"),
        .init(id: "pick", kind: "branch"),
        .init(id: "later", kind: "message"),
    ], position: 2)

private func compile(_ text: String, journey: JourneyFunctionScope? = scope) -> (CompiledSegment?, [String]) {
    let (seg, diags) = SegmentCompiler.compile(
        SegFixture.source(text), schema: SegFixture.schema, catalog: .empty, journey: journey)
    return (
        seg,
        diags.map { d in "\(d.location!.column): \(d.message)" + (d.suggestion.map { " | " + $0 } ?? "") }
    )
}

@Suite("Journey: sent(), opened(), clicked() in branch conditions")
struct JourneyBranchFunctionTests {
    @Test(arguments: [
        ("sent(\"welcome\")", "(sent \"welcome\")"),
        ("opened(welcome) or clicked(\"welcome\")", "(or (opened \"welcome\") (clicked \"welcome\"))"),
        ("not sent(\"welcome\") and country == \"CN\"", "(and (not (sent \"welcome\")) (== country \"CN\"))"),
    ])
    func compilesInsideABranch(text: String, tree: String) {
        let (seg, errors) = compile(text)
        #expect(errors.isEmpty)
        #expect(seg?.treeDescription == tree)
    }

    @Test(arguments: [
        (
            "sent(\"welcome\")", nil as JourneyFunctionScope?,
            "1: sent() can only be used in a journey's branch conditions | sent(\"step\") is about a message step of the same journey instance"
        ),
        (
            "country == \"CN\" and clicked(\"welcome\")", nil,
            "21: clicked() can only be used in a journey's branch conditions | clicked(\"step\") is about a message step of the same journey instance"
        ),
        (
            "opened(\"welcom\")", scope,
            "8: unknown step 'welcom' in opened() | did you mean 'welcome'? message steps: welcome, later"
        ),
        ("sent(\"day-1\")", scope, "6: step 'day-1' is a wait step; sent() is about message steps"),
        (
            "sent(\"later\")", scope,
            "6: step 'later' comes after this branch, so it has never run when the branch is evaluated | name a message step listed before the branch"
        ),
        ("sent()", scope, "1: sent takes 1 argument, got 0 | usage: sent(\"step-id\")"),
        ("sent(1)", scope, "6: expected a step id such as \"welcome\""),
    ])
    func refusedWithAClearMessage(text: String, journey: JourneyFunctionScope?, expected: String) {
        let (seg, errors) = compile(text, journey: journey)
        #expect(seg == nil)
        #expect(errors == [expected])
    }

    /// The single-user and bulk evaluators read the instance's facts from the environment, and agree.
    @Test func evaluatesFromTheInstanceFacts() throws {
        let (seg, _) = compile("opened(\"welcome\") or clicked(\"welcome\")")
        let condition = try #require(seg)
        let user = SegFixture.user("u1", created: SegFixture.now - 86_400)
        var env = SegFixture.env()
        let cases: [(JourneyMessageFacts?, Bool)] = [
            (nil, false), (JourneyMessageFacts(), false), (JourneyMessageFacts(sent: ["welcome"]), false),
            (JourneyMessageFacts(sent: ["welcome"], opened: ["welcome"]), true),
            (JourneyMessageFacts(sent: ["welcome"], clicked: ["welcome"]), true),
            (JourneyMessageFacts(opened: ["other"]), false),
        ]
        for (facts, expected) in cases {
            env.journey = facts
            #expect(condition.matches(user, env, population: .empty) == expected)
            let bulk = condition.evaluate(SegFixture.snapshot([user]), env, population: .empty)
            #expect(bulk == [expected])
        }
    }

    /// A campaign's audience cannot use them: the error names the file position.
    @Test func campaignAudienceRefusesThem() {
        let yaml = minimalCampaign.replacingOccurrences(
            of: "lifecycle == \"active\"", with: "sent(\"welcome\")")
        let (campaign, diags) = ConfigFixture.parseCampaign(yaml)
        #expect(campaign == nil)
        #expect(
            ConfigFixture.brief(diags) == ["4:12: sent() can only be used in a journey's branch conditions"])
    }
}

@Suite("Journey: wait_for.where over event properties")
struct JourneyEventFilterTests {
    private func filter(_ text: String) -> EventPropertyFilter? {
        let (f, diags) = EventPropertyFilter.compile(SegFixture.source(text))
        #expect(diags.isEmpty, "\(diags.map(\.description))")
        return f
    }

    @Test func matchesProperties() throws {
        let f = try #require(filter("amount >= 50 and currency in [\"EUR\", \"USD\"] and not test"))
        #expect(f.description == "(and (>= amount 50) (in currency [\"EUR\" \"USD\"]) (not test))")
        #expect(f.matches(["amount": .number(50), "currency": .string("EUR")]))
        #expect(f.matches(["amount": .number(80), "currency": .string("USD"), "test": .bool(false)]))
        #expect(!f.matches(["amount": .number(49.99), "currency": .string("EUR")]))
        #expect(!f.matches(["amount": .number(80), "currency": .string("GBP")]))
        #expect(!f.matches(["amount": .number(80), "currency": .string("EUR"), "test": .bool(true)]))
        // A missing property or one of another type compares false, as null does in segments.
        #expect(!f.matches(["currency": .string("EUR")]))
        #expect(!f.matches(["amount": .string("80"), "currency": .string("EUR")]))
    }

    @Test func readsStoredJSON() throws {
        let f = try #require(
            filter("10 < amount and sku contains \"shoe\" and gift == true and tags contains \"vip\""))
        #expect(
            f.description
                == "(and (> amount 10) (contains sku \"shoe\") (== gift true) (contains tags \"vip\"))")
        #expect(
            f.matches(
                propertiesJSON: #"{"amount":35.2,"sku":"red-shoe-42","gift":true,"tags":["vip","new"]}"#))
        // JSON true is not the number 1, and 1 is not true.
        #expect(!f.matches(propertiesJSON: #"{"amount":35.2,"sku":"red-shoe-42","gift":1,"tags":["vip"]}"#))
        #expect(!f.matches(propertiesJSON: nil))
        #expect(!f.matches(propertiesJSON: "not json"))
        #expect(
            EventPropertyFilter.properties(json: #"{"a":null,"b":{"c":1},"d":[1,2]}"#) == [
                "a": .null, "b": .null, "d": .null,
            ])
    }

    @Test(
        arguments: [
            (
                "count(\"purchase\", 1d) > 0",
                "1: functions such as count() are not available in wait_for.where"
            ),
            ("amount", nil),
            ("amount > other", "10: the other side of '>' must be a number, string or bool literal"),
            ("amount + 1 > 5", "8: arithmetic ('+') is not available in wait_for.where"),
            ("5 > 1", "3: one side of '>' must be a property name"),
            ("amount > [1, 2]", "8: lists cannot be compared with '>'"),
            ("paid > true", "6: bools can only be compared with == and !="),
            ("amount >", "9: expected a value, found the end of the expression"),
            ("\"EUR\" in currency", "1: the left side of 'in' must be a property name"),
            ("amount", nil),
            (
                "x == 1 or days_since(t) > 1 or y == 2",
                "11: functions such as days_since() are not available in wait_for.where"
            ),
        ] as [(String, String?)])
    func refusedWithAClearMessage(text: String, expected: String?) {
        let (f, diags) = EventPropertyFilter.compile(SegFixture.source(text))
        if let expected {
            #expect(f == nil)
            #expect(diags.map { "\($0.location!.column): \($0.message)" } == [expected])
        } else {
            #expect(f != nil && diags.isEmpty)
        }
    }
}
