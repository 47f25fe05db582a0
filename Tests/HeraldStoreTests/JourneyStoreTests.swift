import HeraldCore
import HeraldLedger
import Testing

/// Journey state in the store, the same on both backends (docs/journeys.md, "Storage").
@Suite struct JourneyStoreTests {
    static let t0: Int64 = 1_764_000_000

    static func instance(_ user: String, id: String = "o1", at: Int64 = t0, due: Int64? = t0) -> JourneyInstance {
        JourneyInstance(
            journey: "onboarding", id: id, user: user, version: "v1", step: "welcome", reachedAt: at, dueAt: due,
            enteredAt: at)
    }

    static func journeys(_ backend: Backend) throws -> any JourneyStore { backend.ledger }

    @Test(arguments: TestBackend.all)
    func versionsAreKeptOnceAndReadBack(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let j = try Self.journeys(backend)
            try await j.saveJourneyVersion(journey: "onboarding", version: "v1", file: "a.yaml", source: "id: a")
            try await j.saveJourneyVersion(journey: "onboarding", version: "v1", file: "b.yaml", source: "changed")
            let kept = try await j.journeyVersion(journey: "onboarding", version: "v1")
            #expect(kept?.file == "a.yaml" && kept?.source == "id: a")
            #expect(try await j.journeyVersion(journey: "onboarding", version: "v2") == nil)
        }
    }

    @Test(arguments: TestBackend.all)
    func aUserIsInOneActiveInstanceAndReEntryIsObeyed(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let j = try Self.journeys(backend)
            #expect(try await j.enterJourney(Self.instance("u1"), reEntryAfter: nil))
            // The same instance twice, and a second one while the first is active: refused.
            #expect(try await !j.enterJourney(Self.instance("u1"), reEntryAfter: nil))
            #expect(try await !j.enterJourney(Self.instance("u1", id: "o2", at: Self.t0 + 10), reEntryAfter: 0))
            var first = Self.instance("u1")
            first.status = .completed
            first.step = "exit"
            first.dueAt = nil
            #expect(try await j.moveInstance(first, expectedMoves: 0, records: []))
            // never: refused for good; after 100 s: refused at +50, admitted at +100.
            #expect(try await !j.enterJourney(Self.instance("u1", id: "o2", at: Self.t0 + 10), reEntryAfter: nil))
            #expect(try await !j.enterJourney(Self.instance("u1", id: "o2", at: Self.t0 + 50), reEntryAfter: 100))
            #expect(try await j.enterJourney(Self.instance("u1", id: "o3", at: Self.t0 + 100), reEntryAfter: 100))
            let all = try await j.journeyInstances(journey: "onboarding", user: "u1")
            #expect(all.map(\.id) == ["o3", "o1"])
            #expect(try await j.activeInstances(user: "u1").map(\.id) == ["o3"])
            #expect(try await j.journeyStatusCounts(journey: "onboarding") == ["active": 1, "completed": 1])
        }
    }

    /// Every instance of a journey, oldest entry first, for stats per path; other journeys' are not among them.
    @Test(arguments: TestBackend.all)
    func everyInstanceOfAJourneyIsListedInEntryOrder(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let j = try Self.journeys(backend)
            #expect(try await j.journeyInstances(journey: "onboarding").isEmpty)
            #expect(try await j.enterJourney(Self.instance("u2", at: Self.t0 + 5), reEntryAfter: nil))
            #expect(try await j.enterJourney(Self.instance("u1", at: Self.t0 + 5), reEntryAfter: nil))
            #expect(try await j.enterJourney(Self.instance("u3", at: Self.t0), reEntryAfter: nil))
            var other = Self.instance("u1")
            other.journey = "winback"
            #expect(try await j.enterJourney(other, reEntryAfter: nil))
            let all = try await j.journeyInstances(journey: "onboarding")
            #expect(all.map(\.user) == ["u3", "u1", "u2"])
            #expect(all.allSatisfy { $0.journey == "onboarding" && $0.status == .active })
        }
    }

    @Test(arguments: TestBackend.all)
    func dueInstancesAreClaimedOnceUntilTheirLeaseEnds(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let j = try Self.journeys(backend)
            for (n, user) in ["a", "b", "c"].enumerated() {
                #expect(try await j.enterJourney(Self.instance(user, due: Self.t0 + Int64(n)), reEntryAfter: nil))
            }
            #expect(try await j.enterJourney(Self.instance("later", due: Self.t0 + 3600), reEntryAfter: nil))
            let first = try await j.claimDueInstances(now: Self.t0 + 5, limit: 2, shards: nil, lease: 60)
            #expect(first.map(\.user) == ["a", "b"])
            let second = try await j.claimDueInstances(now: Self.t0 + 5, limit: 10, shards: nil, lease: 60)
            #expect(second.map(\.user) == ["c"])
            #expect(try await j.claimDueInstances(now: Self.t0 + 64, limit: 10, shards: nil, lease: 60).isEmpty)
            // A runner that died: its instances are due again once the lease passed.
            let again = try await j.claimDueInstances(now: Self.t0 + 66, limit: 10, shards: nil, lease: 60)
            #expect(Set(again.map(\.user)) == ["a", "b", "c"])
        }
    }

    @Test(arguments: TestBackend.all)
    func aMoveIsACompareAndSetWithItsRecords(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let j = try Self.journeys(backend)
            #expect(try await j.enterJourney(Self.instance("u1"), reEntryAfter: nil))
            var moved = Self.instance("u1")
            moved.step = "day-1"
            moved.reachedAt = Self.t0 + 30
            moved.dueAt = Self.t0 + 86_430
            moved.messageKey = "onboarding/o1/u1/welcome"
            let record = JourneyStepRecord(
                journey: "onboarding", instance: "o1", user: "u1", step: "welcome", at: Self.t0 + 30, outcome: "sent",
                next: "day-1")
            #expect(try await j.moveInstance(moved, expectedMoves: 0, records: [record]))
            // A second runner that saw the same state loses, and writes nothing.
            var stale = moved
            stale.step = "tips"
            #expect(try await !j.moveInstance(stale, expectedMoves: 0, records: [record]))
            let now = try #require(try await j.journeyInstances(journey: "onboarding", user: "u1").first)
            #expect(now.step == "day-1" && now.moves == 1 && now.messageKey == "onboarding/o1/u1/welcome")
            #expect(now.dueAt == Self.t0 + 86_430 && now.reachedAt == Self.t0 + 30)
            #expect(try await j.journeyRecords(journey: "onboarding", instance: "o1") == [record])
            #expect(try await j.journeyRecords(journey: "onboarding") == [record])
            var ended = now
            ended.status = .exitedEvent("purchase")
            ended.step = "exit"
            ended.dueAt = nil
            #expect(try await j.moveInstance(ended, expectedMoves: 1, records: []))
            #expect(try await j.activeInstances(user: "u1").isEmpty)
            let last = try await j.journeyInstances(journey: "onboarding", user: "u1").first
            #expect(last?.status == .exitedEvent("purchase"))
            #expect(try await j.journeyStatusCounts(journey: "onboarding") == ["exited:purchase": 1])
        }
    }

    @Test(arguments: TestBackend.all)
    func batchesAreTakenInOrderWithEachMoveItsOwnCompareAndSet(_ kind: TestBackend) async throws {
        try await Backend.with(kind) { backend in
            let j = try Self.journeys(backend)
            // Two entries of one user in one call: the second finds the first active.
            let started = try await j.enterJourneys([
                (Self.instance("u1"), nil), (Self.instance("u1", id: "o2"), 0), (Self.instance("u2"), nil),
            ])
            #expect(started == [true, false, true])
            var a = Self.instance("u1")
            a.step = "day-1"
            var b = Self.instance("u2")
            b.step = "day-1"
            let record = JourneyStepRecord(
                journey: "onboarding", instance: "o1", user: "u2", step: "welcome", at: Self.t0, outcome: "sent",
                next: "day-1")
            // u1's move names a stale count and is not written; u2's is, with its record.
            let written = try await j.moveInstances([
                JourneyMove(instance: a, expectedMoves: 7, records: [record]),
                JourneyMove(instance: b, expectedMoves: 0, records: [record]),
            ])
            #expect(written == [false, true])
            #expect(try await j.journeyInstances(journey: "onboarding", user: "u1").first?.step == "welcome")
            #expect(try await j.journeyInstances(journey: "onboarding", user: "u2").first?.moves == 1)
            #expect(try await j.journeyRecords(journey: "onboarding") == [record])
        }
    }
}
