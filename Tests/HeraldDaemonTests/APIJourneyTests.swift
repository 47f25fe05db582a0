import Foundation
import HeraldCore
import HeraldDaemon
import HeraldLedger
import Testing

/// `GET /v1/journeys/{id}/users/{user}` (docs/api.md): the user's instances with their paths.
@Suite struct APIJourneyTests {
    @Test func showsInstancesWithTheirPathAndRefusesUnknownOnes() async throws {
        try await APIHarness.run { api in
            let t: Int64 = 1_767_225_000
            var i = JourneyInstance(
                journey: "onboarding", id: "ev-1", user: "u 1", version: "abc", step: "welcome", reachedAt: t,
                dueAt: t, enteredAt: t)
            #expect(try await api.ledger.enterJourney(i, reEntryAfter: nil))
            i.step = "day-1"
            i.reachedAt = t + 30
            i.dueAt = t + 86_430
            let r = JourneyStepRecord(
                journey: "onboarding", instance: "ev-1", user: "u 1", step: "welcome", at: t + 30, outcome: "sent",
                next: "day-1")
            #expect(try await api.ledger.moveInstance(i, expectedMoves: 0, records: [r]))

            let ok = try await api.send(.get, "/v1/journeys/onboarding/users/u%201")
            #expect(ok.status == 200, "\(ok.text)")
            let body = try APIHarness.object(ok)
            let instances = try #require(body["instances"] as? [[String: Any]])
            #expect(instances.count == 1)
            #expect(instances.first?["status"] as? String == "active")
            #expect(instances.first?["step"] as? String == "day-1")
            #expect((instances.first?["due_at"] as? NSNumber)?.int64Value == t + 86_430)
            let path = try #require(instances.first?["path"] as? [[String: Any]])
            #expect(path.map { $0["outcome"] as? String } == ["sent"])

            #expect(try await api.send(.get, "/v1/journeys/onboarding/users/u2").status == 404)
            #expect(try await api.send(.get, "/v1/journeys/onboarding/users/%0A").status == 400)
        }
    }
}
