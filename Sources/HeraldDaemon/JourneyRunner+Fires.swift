import HeraldCore
import HeraldLedger

/// Journeys started by a trigger that concerns a whole audience (docs/journeys.md, "Triggers"): `schedule`,
/// `cron`, `entered_segment` and `api`. The scheduler decides when such a trigger fires, with the rules it
/// applies to campaigns (one fire per occurrence, a downtime's fires recorded `missed`); a fire enters every
/// user of the audience in batches, each as an instance whose id is the fire's occurrence id, then records
/// the occurrence. Entering an instance id twice starts nothing, so a fire repeated after a crash between the
/// two, or by a second daemon, enters nobody twice.
extension JourneyRunner {
    /// How long after its time a `schedule` or `cron` fire still enters its audience (a daemon that was down
    /// longer records the fire `missed`): the default send window of a campaign.
    static let fireWindow: Int64 = 86_400
    /// Entries written per store call.
    static let entryBatch = 2_000

    /// Fires the active `schedule` and `cron` journeys due at `now`; returns how many instances started.
    func fire(scheduler: Scheduler, book: CampaignBook, now: Int64) async throws -> Int {
        var started = 0
        for j in book.journeys where j.status == .active {
            let due = try await scheduler.dueStart(j.id, j.trigger, window: Self.fireWindow, now: now, done: .fired)
            guard let at = due else { continue }
            let fire = Occurrence(start: at).id
            let users = try await audiences([j], book: book, now: now)[0]
            let n = try await enter(j, users: users, fire: fire, now: now)
            try await recordFire(j, fire: fire, start: at, entered: n, now: now)
            started += n
        }
        return started
    }

    /// `entered_segment`: enters the users who newly match each journey's audience since its last evaluation
    /// (the first evaluation records the baseline); returns how many instances started.
    func enterNewMembers(_ journeys: [JourneyDefinition], scheduler: Scheduler, book: CampaignBook, now: Int64)
        async throws -> Int
    {
        var started = 0
        for (j, users) in zip(journeys, try await audiences(journeys, book: book, now: now)) {
            guard let change = try await scheduler.membershipChange(j.id, members: Set(users), now: now),
                !change.entered.isEmpty || !change.left.isEmpty
            else { continue }
            let (entered, left) = change
            // The fire's id is fixed by the evaluation it follows, not by the clock: a fire whose record a crash
            // lost is repeated under the same id, and its entries are not made twice.
            let previous =
                try await ledger.latestOccurrence(campaign: j.id, statuses: [.fired, .activated]) ?? now
            let fire = "entered-after-" + TimestampParser.formatUTC(seconds: previous)
            let n = try await enter(j, users: entered.sorted(), fire: fire, now: now)
            try await recordFire(j, fire: fire, start: now, entered: n, now: now, members: (entered, left))
            started += n
        }
        return started
    }

    /// `POST /v1/campaigns/{id}/trigger` for an `api` journey: enters the audience (only `users` when given)
    /// as the fire `key` (the caller's idempotency key, else one made of the time). Repeating a fire enters
    /// nobody. `decisions` counts the instances started; `sends` is 0 (the steps send later).
    func trigger(_ j: JourneyDefinition, occurrence key: String?, users: [String]?, now: Int64) async throws -> (
        occurrence: String, decisions: Int, sends: Int, alreadyPlanned: Bool
    ) {
        guard j.status == .active else { throw TriggerError.notActive(j.id) }
        guard case .api = j.trigger else { throw TriggerError.notAPITriggered(j.id) }
        let fire = key.map(Scheduler.safeOccurrenceID) ?? "api-" + TimestampParser.formatUTC(seconds: now)
        if try await ledger.occurrence(campaign: j.id, id: fire) != nil { return (fire, 0, 0, true) }
        var audience = try await audiences([j], book: book.current, now: now)[0]
        if let users {
            let wanted = Set(users)
            audience = audience.filter(wanted.contains)
        }
        let n = try await enter(j, users: audience, fire: fire, now: now)
        try await recordFire(j, fire: fire, start: now, entered: n, now: now)
        return (fire, n, 0, false)
    }

    /// The users of each journey's audience at `now`.
    func audiences(_ journeys: [JourneyDefinition], book: CampaignBook, now: Int64) async throws -> [[String]] {
        try await PlanningSource.audiences(
            of: journeys, store: store, ledger: ledger, config: book.config, now: now,
            goals: Campaign.conversionGoals(book.campaigns))
    }

    /// Enters `users` into `j` as instances with the id `fire`, at the first step, due now, in batches; the
    /// store applies the re-entry rule and refuses an instance id a user already has. Returns how many started.
    func enter(_ j: JourneyDefinition, users: [String], fire: String, now: Int64) async throws -> Int {
        guard !users.isEmpty else { return 0 }
        try await keepVersion(j)
        var started = 0
        var start = 0
        while start < users.count {
            let batch = users[start..<min(start + Self.entryBatch, users.count)]
            let entries = batch.map { user in
                (
                    instance: JourneyInstance(
                        journey: j.id, id: fire, user: user, version: j.version.hex, step: j.firstStep.id,
                        reachedAt: now, dueAt: now, enteredAt: now),
                    reEntryAfter: j.reEntry.seconds
                )
            }
            started += try await ledger.enterJourneys(entries).filter { $0 }.count
            start += batch.count
        }
        return started
    }

    /// Records a fire once its entries are written: the scheduler does not fire it again.
    func recordFire(
        _ j: JourneyDefinition, fire: String, start: Int64, entered: Int, now: Int64,
        members: (entered: [String], left: [String]) = ([], [])
    ) async throws {
        let (_, fresh) = try await ledger.recordOccurrence(
            OccurrenceRecord(
                campaign: j.id, occurrence: fire, start: start, status: .fired, detail: "entered \(entered)"),
            entries: [], entered: members.entered, left: members.left, at: now)
        if fresh {
            logger.info(
                "journey fired", metadata: ["journey": "\(j.id)", "occurrence": "\(fire)", "entered": "\(entered)"])
        }
    }
}
