import HeraldCore
import HeraldLedger
import Testing

/// The logic the storage contract owns, so that no backend can diverge from it.
@Suite struct ContractLogicTests {
    /// Walks a budget with `available` rows per phase and returns the phases with what each took.
    func walk(_ budget: ClaimBudget, available: [ClaimBudget.Phase: Int]) -> [(ClaimBudget.Phase, Int)] {
        var budget = budget
        var steps: [(ClaimBudget.Phase, Int)] = []
        while let (phase, room) = budget.next() {
            let n = min(room, available[phase] ?? 0)
            steps.append((phase, n))
            budget.took(n)
        }
        return steps
    }

    @Test func expiredLeasesFirstThenUncappedThenEachCappedChannelInNameOrder() {
        let budget = ClaimBudget(limit: 10, perChannel: [.sms: 2, .email: 3])
        let steps = walk(
            budget,
            available: [
                .expiredLeases: 1, .uncapped(excluding: [.email, .sms]): 4, .channel(.email): 9, .channel(.sms): 9,
            ])
        #expect(steps.map(\.0) == [.expiredLeases, .uncapped(excluding: [.email, .sms]), .channel(.email), .channel(.sms)])
        #expect(steps.map(\.1) == [1, 4, 3, 2])
    }

    @Test func aFullClaimStopsAndACapNeverExceedsTheRoomLeft() {
        let budget = ClaimBudget(limit: 5, perChannel: [.sms: 4])
        let steps = walk(budget, available: [.expiredLeases: 3, .uncapped(excluding: [.sms]): 0, .channel(.sms): 9])
        #expect(steps.map(\.1) == [3, 0, 2])
        let full = walk(ClaimBudget(limit: 2, perChannel: [.sms: 4]), available: [.expiredLeases: 2])
        #expect(full.count == 1)
        #expect(walk(ClaimBudget(limit: 0, perChannel: [:]), available: [:]).isEmpty)
    }

    @Test func funnelAssemblySumsGroupsAndArmsAppearOnlyForExperiments() {
        var funnels = CampaignFunnel.assemble([
            FunnelGroup(campaign: "a", status: "sent", reason: nil, rows: 5, sent: 5, opened: 2, clicked: 1),
            FunnelGroup(campaign: "a", status: "suppressed", reason: "opted_out:global", rows: 2, sent: 0, opened: 0, clicked: 0),
            FunnelGroup(campaign: "b", status: "delivered", reason: nil, rows: 1, sent: 1, opened: 0, clicked: 0),
        ])
        #expect(funnels["a"]?.decisions == 7)
        #expect(funnels["a"]?.count(.sent) == 5)
        #expect(funnels["a"]?.suppressedReasons == ["opted_out:global": 2])
        #expect(funnels["b"]?.sent == 1)
        let goal = Campaign.Conversion(event: "purchase", within: 86_400)
        funnels["a"]!.addArms(
            [FunnelArmGroup(holdout: false, variant: nil, users: 7, convertedUsers: 2, sentConverted: 2)], goal: goal)
        #expect(funnels["a"]?.converted == 2)
        #expect(funnels["a"]?.arms.isEmpty == true)
        funnels["b"]!.addArms(
            [
                FunnelArmGroup(holdout: true, variant: nil, users: 3, convertedUsers: 1, sentConverted: 0),
                FunnelArmGroup(holdout: false, variant: "x", users: 4, convertedUsers: 2, sentConverted: 2),
            ], goal: nil)
        #expect(funnels["b"]?.converted == nil)
        #expect(funnels["b"]?.arms.map(\.users) == [3, 4])
        #expect(funnels["b"]?.arms.allSatisfy { $0.converted == nil } == true)
    }

    @Test func conflictRetryRunsAgainOnlyForConflictsAndGivesUp() async throws {
        struct Conflict: Error {}
        struct Other: Error {}
        let policy = ConflictRetry(attempts: 3, backoff: .zero)
        var runs = 0
        let value = try await policy.run(isConflict: { $0 is Conflict }) {
            runs += 1
            if runs < 3 { throw Conflict() }
            return 42
        }
        #expect(value == 42 && runs == 3)
        runs = 0
        await #expect(throws: Conflict.self) {
            try await policy.run(isConflict: { $0 is Conflict }) { () async throws -> Int in
                runs += 1
                throw Conflict()
            }
        }
        #expect(runs == 3)
        runs = 0
        await #expect(throws: Other.self) {
            try await policy.run(isConflict: { $0 is Conflict }) { () async throws -> Int in
                runs += 1
                throw Other()
            }
        }
        #expect(runs == 1)
    }
}
