import Foundation
import Testing

@testable import HeraldCore

@Suite("Journey: next-step resolution, branches, splits, entry")
struct JourneyNavigationTests {
    @Test func everyOutcomeLeadsWhereTheFileSays() throws {
        let j = try #require(JourneyFixture.journey(runnableJourney))
        let cases: [(String, JourneyStepOutcome, JourneyTarget?)] = [
            ("welcome", .done, .step("day-1")),
            ("day-1", .done, .step("tips")),
            ("tips", .done, .step("await-purchase")),
            ("await-purchase", .event, .exit),
            ("await-purchase", .timeout, .step("pick-channel")),
            ("pick-channel", .branch(arm: 0), .step("coupon-email")),
            ("pick-channel", .branch(arm: nil), .step("control-split")),
            ("pick-channel", .branch(arm: 7), .step("control-split")),
            ("coupon-email", .done, .exit),
            ("control-split", .split(arm: 0), .step("coupon-sms")),
            ("control-split", .split(arm: 1), .exit),
            ("coupon-sms", .done, .exit),
            // Outcomes that do not belong to the step, and unknown steps, lead nowhere.
            ("welcome", .event, nil),
            ("await-purchase", .done, nil),
            ("control-split", .split(arm: 2), nil),
            ("day-1", .branch(arm: nil), nil),
            ("nope", .done, nil),
        ]
        for (step, outcome, expected) in cases {
            #expect(j.next(from: step, outcome: outcome) == expected, "\(step) \(outcome)")
        }
        #expect(j.entryTarget == .step("welcome"))
    }

    @Test func branchTakesTheFirstTrueArm() throws {
        let yaml = """
            id: j1
            name: J
            audience: { segment: lifecycle == "new" }
            trigger: { api: true }
            steps:
              - { id: hello, message: { channel: sms, sms: { text: hi } } }
              - id: pick
                branch:
                  - { if: clicked("hello"), goto: b }
                  - { if: country == "CN" or opened("hello"), goto: c }
                  - { else: exit }
              - { id: b, wait: 1d, next: exit }
              - { id: c, wait: 1d }
            """
        let j = try #require(JourneyFixture.journey(yaml))
        guard case .branch(let branch) = j.steps[1].kind else { throw JourneyTestError.notAJourney }
        let cn = SegFixture.user("u1", attributes: ["country": .string("CN")])
        let de = SegFixture.user("u2", attributes: ["country": .string("DE")])
        var env = SegFixture.env()
        env.journey = JourneyMessageFacts(sent: ["hello"], opened: ["hello"], clicked: ["hello"])
        #expect(branch.choose(cn, env, population: .empty) == 0)
        env.journey = JourneyMessageFacts(sent: ["hello"])
        #expect(branch.choose(cn, env, population: .empty) == 1)
        #expect(branch.choose(de, env, population: .empty) == nil)
        env.journey = JourneyMessageFacts(sent: ["hello"], opened: ["hello"])
        #expect(branch.choose(de, env, population: .empty) == 1)
        #expect(branch.target(arm: 1) == .step("c") && branch.target(arm: nil) == .exit)
    }

    @Test func splitIsDeterministicAndIndependentPerStep() {
        let split = JourneySplit(arms: [
            .init(percent: 50, goto: .step("a")), .init(percent: 50, goto: .exit),
        ])
        var joint = [0, 0, 0, 0]
        for i in 0..<10_000 {
            let user = "user-\(i)"
            let first = split.arm(journey: "onboarding", user: user, step: "s1")
            #expect(first == split.arm(journey: "onboarding", user: user, step: "s1"))
            let second = split.arm(journey: "onboarding", user: user, step: "s2")
            joint[first * 2 + second] += 1
        }
        // Independent halves: each quarter near 2,500 (σ ≈ 43).
        #expect(joint.allSatisfy { abs($0 - 2_500) < 200 }, "\(joint)")
        // Pinned: a user's path must never move between builds or daemons.
        #expect(
            JourneySplit.point(journey: "onboarding", user: "u1", step: "control-split") == Self.pinnedPoint)
    }

    static let pinnedPoint = 93.37798808271768

    @Test(arguments: [
        [90.0, 10.0], [50, 30, 20], [12.5, 12.5, 75], [100],
    ])
    func splitProportions(percents: [Double]) {
        let split = JourneySplit(arms: percents.map { JourneySplit.Arm(percent: $0, goto: .exit) })
        var counts = Array(repeating: 0, count: percents.count)
        let n = 10_000
        for i in 0..<n { counts[split.arm(journey: "j", user: "u\(i)", step: "split")] += 1 }
        for (k, p) in percents.enumerated() {
            let expected = Double(n) * p / 100
            let sigma = (Double(n) * p / 100 * (1 - p / 100)).squareRoot()
            #expect(
                abs(Double(counts[k]) - expected) <= max(4 * sigma, 1),
                "arm \(k): \(counts[k]) of \(n), expected \(expected)")
        }
    }

    @Test func reEntryRules() {
        let now: Int64 = 1_800_000_000
        let day: Int64 = 86_400
        #expect(JourneyDefinition.ReEntry.never.allowsEntry(inInstance: false, lastEnteredAt: nil, now: now))
        #expect(
            !JourneyDefinition.ReEntry.never.allowsEntry(
                inInstance: false, lastEnteredAt: now - 400 * day, now: now))
        #expect(
            JourneyDefinition.ReEntry.always.allowsEntry(inInstance: false, lastEnteredAt: now - 1, now: now))
        #expect(
            !JourneyDefinition.ReEntry.always.allowsEntry(
                inInstance: true, lastEnteredAt: now - day, now: now))
        let after = JourneyDefinition.ReEntry.after(30 * day)
        #expect(!after.allowsEntry(inInstance: false, lastEnteredAt: now - 30 * day + 1, now: now))
        #expect(after.allowsEntry(inInstance: false, lastEnteredAt: now - 30 * day, now: now))
        #expect(!after.allowsEntry(inInstance: true, lastEnteredAt: now - 90 * day, now: now))
    }

    @Test func waitForAcceptsMatchingEventsFromTheMomentTheStepIsReached() throws {
        let j = try #require(JourneyFixture.journey(runnableJourney))
        guard case .waitFor(let w) = j.steps[3].kind else { throw JourneyTestError.notAJourney }
        let reached: Int64 = 1_800_000_000
        #expect(w.timeout(reachedAt: reached) == reached + 2 * 86_400)
        #expect(
            w.accepts(
                name: "purchase", timestamp: reached, propertiesJSON: #"{"amount":10}"#, reachedAt: reached))
        #expect(
            !w.accepts(
                name: "purchase", timestamp: reached - 1, propertiesJSON: #"{"amount":10}"#,
                reachedAt: reached))
        #expect(
            !w.accepts(
                name: "purchase", timestamp: reached + 5, propertiesJSON: #"{"amount":9}"#, reachedAt: reached
            ))
        #expect(
            !w.accepts(
                name: "refund", timestamp: reached + 5, propertiesJSON: #"{"amount":10}"#, reachedAt: reached)
        )
        #expect(
            w.accepts(
                name: "purchase", timestamp: reached + 5, properties: ["amount": .number(12)],
                reachedAt: reached))
    }
}
