import Foundation
import Testing

@testable import HeraldCore

@Suite("Rollout stages and guardrails")
struct ExperimentRolloutTests {
    private let users = (0..<20000).map { "user-\($0)" }

    @Test("a user's stage is the first whose cumulative share is above their bucket")
    func stageBoundaries() throws {
        let stages = try RolloutStages(percents: [5, 25, 100])
        #expect(stages.stage(forUserBucket: 0) == 0)
        #expect(stages.stage(forUserBucket: 0.049999) == 0)
        #expect(stages.stage(forUserBucket: 0.05) == 1)
        #expect(stages.stage(forUserBucket: 0.2499) == 1)
        #expect(stages.stage(forUserBucket: 0.25) == 2)
        #expect(stages.stage(forUserBucket: 0.999999) == 2)
        let partial = try RolloutStages(percents: [10, 50])
        #expect(partial.stage(forUserBucket: 0.6) == nil)
        #expect(!partial.isReleased(bucket: 0.6, released: 2))
        #expect(stages.label(ofStage: 1) == "stage 2 of 3 (5%–25%)")
    }

    @Test("released users stay released as the rollout widens, and when the stages are edited wider")
    func stableWhenWidened() throws {
        let stages = try RolloutStages(percents: [5, 25, 100])
        let wider = try RolloutStages(percents: [10, 50, 100])
        for user in users {
            let bucket = ExperimentBucket.rollout(campaign: "spring-sale", user: user)
            for released in 1..<stages.count where stages.isReleased(bucket: bucket, released: released) {
                #expect(stages.isReleased(bucket: bucket, released: released + 1))
                #expect(wider.isReleased(bucket: bucket, released: released))
            }
            #expect(!stages.isReleased(bucket: bucket, released: 0))
            #expect(stages.isReleased(bucket: bucket, released: 3))
        }
    }

    @Test("stage sizes follow the shares; stage 1 is not cut from one variant")
    func stageSizesAndIndependence() throws {
        let stages = try RolloutStages(percents: [5, 25, 100])
        let experiment = Campaign.Experiment(
            holdoutPercent: 0,
            variants: [Campaign.Variant(id: "a", weight: 50), Campaign.Variant(id: "b", weight: 50)])
        var perStage = [0, 0, 0]
        var firstStageVariantA = 0
        for user in users {
            let stage = try #require(
                stages.stage(forUserBucket: ExperimentBucket.rollout(campaign: "c1", user: user)))
            perStage[stage] += 1
            if stage == 0,
                ExperimentAssignment.group(campaign: "c1", user: user, experiment: experiment)
                    == .variant("a")
            {
                firstStageVariantA += 1
            }
        }
        let n = Double(users.count)
        #expect(abs(Double(perStage[0]) / n - 0.05) < 0.006, "\(perStage)")
        #expect(abs(Double(perStage[1]) / n - 0.20) < 0.012, "\(perStage)")
        let shareA = Double(firstStageVariantA) / Double(perStage[0])
        #expect(shareA > 0.4 && shareA < 0.6, "variant a is \(shareA) of stage 1")
    }

    @Test("buckets are the assignment hash with their own salts, pinned so users never move between releases")
    func bucketsPinned() {
        #expect(
            ExperimentBucket.rollout(campaign: "c", user: "u") == AssignmentHash.unit("rollout", "c", "u"))
        #expect(
            ExperimentBucket.winnerTest(campaign: "c", user: "u")
                == AssignmentHash.unit("winner-test", "c", "u"))
        #expect(
            ExperimentBucket.rollout(campaign: "c", user: "u")
                != ExperimentBucket.winnerTest(campaign: "c", user: "u"))
        #expect(ExperimentBucket.rollout(campaign: "spring-sale", user: "user-1") == 0.4140352895881231)
    }

    @Test("bad stage lists are errors naming the stage")
    func invalidStages() {
        #expect(throws: RolloutStages.Invalid.empty) { try RolloutStages(percents: []) }
        #expect(throws: RolloutStages.Invalid.outOfRange(index: 0, percent: 0)) {
            try RolloutStages(percents: [0, 100])
        }
        #expect(throws: RolloutStages.Invalid.outOfRange(index: 1, percent: 120)) {
            try RolloutStages(percents: [5, 120])
        }
        #expect(throws: RolloutStages.Invalid.notIncreasing(index: 2, percent: 25, previous: 25)) {
            try RolloutStages(percents: [5, 25, 25])
        }
        #expect(
            RolloutStages.Invalid.notIncreasing(index: 1, percent: 5, previous: 25).description
                == "rollout.stages[1]: 5% must be larger than the stage before it (25%): the shares are cumulative"
        )
    }

    @Test("each guardrail fires above its limit, over its own denominator")
    func guardrailsFire() {
        let rails = RolloutGuardrails(unsubscribeRate: 0.005, failureRate: 0.05, complaintRate: 0.001)
        #expect(rails.evaluate(RolloutCounts(attempted: 1000, sent: 1000)) == nil)
        // failed + dead + bounced over attempted: 20 + 15 + 16 = 51 of 1000 > 5 %.
        let failing = RolloutCounts(attempted: 1000, sent: 949, failed: 20, dead: 15, bounced: 16)
        #expect(rails.evaluate(failing) == "failure_rate 5.1% (51 of 1000 attempted) > 5%")
        // Unsubscribes and complaints count over sent, not attempted.
        let unsub = RolloutCounts(attempted: 2000, sent: 800, unsubscribed: 5)
        #expect(rails.breaches(unsub).map(\.guardrail) == [.unsubscribeRate])
        let both = RolloutCounts(attempted: 1000, sent: 1000, unsubscribed: 6, complained: 2)
        #expect(
            rails.evaluate(both)
                == "unsubscribe_rate 0.6% (6 of 1000 sent) > 0.5%; complaint_rate 0.2% (2 of 1000 sent) > 0.1%"
        )
    }

    @Test("a rate equal to its limit, an unset limit, no sends, or too few sends do not halt")
    func guardrailsHold() {
        let rails = RolloutGuardrails(unsubscribeRate: 0.005, failureRate: 0.05)
        #expect(rails.evaluate(RolloutCounts(attempted: 1000, sent: 950, failed: 50)) == nil)
        #expect(rails.evaluate(RolloutCounts(attempted: 1000, sent: 1000, complained: 500)) == nil)
        #expect(rails.evaluate(RolloutCounts()) == nil)
        #expect(rails.evaluate(RolloutCounts(attempted: 19, sent: 18, failed: 1, unsubscribed: 1)) == nil)
        #expect(rails.evaluate(RolloutCounts(attempted: 20, sent: 19, failed: 2)) != nil)
        let strict = RolloutGuardrails(failureRate: 0.05, minimumSample: 0)
        #expect(
            strict.evaluate(RolloutCounts(attempted: 1, failed: 1))
                == "failure_rate 100% (1 of 1 attempted) > 5%")
    }
}
