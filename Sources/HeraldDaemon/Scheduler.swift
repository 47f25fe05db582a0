import Foundation
import HeraldCore
import HeraldLedger
import Logging

/// Turns triggers into planned occurrences: one-shot `schedule`, `cron` in a timezone, `entered_segment` and
/// `api` plan the audience in bulk through the one decision pipeline; `event` plans the one user an event
/// arrives for. Every occurrence's decisions and its planning record are written in one transaction, keyed so
/// that planning the same occurrence twice inserts nothing.
///
/// Downtime: a `schedule` whose window is still open when the daemon comes back is planned (sends go in the
/// rest of the window); one whose window has passed is recorded `missed` and logged. For `cron`, only the most
/// recent occurrence is planned if its window is still open; the earlier ones missed during the downtime are
/// recorded `missed` — never sent late, never doubled. A `cron` or `entered_segment` campaign starts counting
/// from the moment the daemon first sees it active (its `activated` record): no back-fill of older occurrences,
/// and the audience at that moment is the baseline, not a wave of "entered" sends.
public final class Scheduler: Sendable {
    let store: any HeraldAudience
    let ledger: any DispatchLedger
    let book: LiveBook
    let clock: DaemonClock
    let logger: Logger
    /// RFM population of the last full snapshot, for single-user (event) planning; and the store sequence
    /// at the last `entered_segment` evaluation.
    private let cache = LockedState(Cache())
    /// Stages released per recurring or event campaign with a rollout, as last read or recorded
    /// (Scheduler+Experiments): event planning reads it instead of the ledger.
    let rolloutReleased = LockedState([String: Int]())

    struct Cache {
        var population: PopulationStats?
        var populationAt: Int64 = 0
        var segmentSequence: Int64 = -1
        var segmentCheckedAt: Int64 = 0
    }

    /// A scheduler over `store` and `ledger`.
    public init(store: any HeraldAudience, ledger: any DispatchLedger, book: LiveBook, clock: DaemonClock, logger: Logger) {
        self.store = store
        self.ledger = ledger
        self.book = book
        self.clock = clock
        self.logger = logger
    }

    /// How often `entered_segment` audiences are re-evaluated when the store did not change (lifecycle and
    /// windows move with time alone).
    public static let segmentRecheck: Int64 = 900

    /// The shortest time between two `entered_segment` evaluations, seconds.
    public static let segmentMinimumInterval: Int64 = 60

    // MARK: Periodic triggers

    /// One scheduling round at the clock's now: plans every due occurrence; returns how many decisions were recorded.
    @discardableResult
    public func tick() async throws -> Int {
        let now = clock.seconds
        try await refreshControls()
        let current = book.current
        var due: [(Campaign, Occurrence, Set<String>?)] = []
        var segmentCampaigns: [Campaign] = []
        for c in current.active {
            switch c.trigger {
            case .schedule:
                if let at = try await dueStart(c.id, c.trigger, window: c.sendTime.within, now: now) {
                    due.append((c, Occurrence(start: at), nil))
                }
            case .cron:
                if let at = try await dueStart(c.id, c.trigger, window: c.sendTime.within, now: now) {
                    due.append((c, Occurrence.cron(at: at, campaign: c), nil))
                }
            case .enteredSegment:
                segmentCampaigns.append(c)
            case .event, .api:
                continue
            }
        }
        // Event campaigns plan one user at a time inside API requests: keep their RFM population fresh here,
        // off the request path.
        if current.active.contains(where: { if case .event = $0.trigger { true } else { false } }),
            cache.withLock({ now - $0.populationAt >= Self.segmentRecheck })
        {
            try await refreshPopulation(current, now)
        }
        var recorded = 0
        if !due.isEmpty { recorded += try await plan(due, book: current, now: now).recorded }
        // Journeys fire on the same triggers: each fire enters the audience (docs/journeys.md).
        let journeys = journeyRunner.withLock { $0 }
        let segmentJourneys = current.journeys.filter { $0.status == .active && $0.trigger == .enteredSegment }
        if !segmentCampaigns.isEmpty || !segmentJourneys.isEmpty {
            recorded += try await enteredSegment(segmentCampaigns, journeys: segmentJourneys, book: current, now: now)
        }
        if let journeys { recorded += try await journeys.fire(scheduler: self, book: current, now: now) }
        recorded += try await advanceExperiments(current, now: now)
        return recorded
    }

    /// Lays the operators' switches (pause, rollout halt) from the store over the book. Every daemon runs it each
    /// scheduler round, planner or not, so every daemon obeys a pause within a round (docs/operations.md).
    public func refreshControls() async throws {
        let controls = try await ledger.controls()
        if book.setControls(controls) {
            logger.notice("campaign controls changed", metadata: [
                "paused": "\(controls.paused.keys.sorted().joined(separator: ","))",
                "rollouts_halted": "\(controls.haltedRollouts.keys.sorted().joined(separator: ","))"])
        }
    }

    /// The moment the daemon first saw campaign or journey `id` active (recorded on first sight).
    func activation(_ id: String, _ now: Int64) async throws -> Int64 {
        if let r = try await ledger.occurrence(campaign: id, id: OccurrenceRecord.activationID) { return r.start }
        _ = try await ledger.recordOccurrence(
            OccurrenceRecord.activation(campaign: id, at: now),
            entries: [], at: now)
        return now
    }

    func missed(_ id: String, _ o: Occurrence, _ why: String, _ now: Int64) async throws {
        let (_, fresh) = try await ledger.recordOccurrence(
            OccurrenceRecord(campaign: id, occurrence: o.id, start: o.start, status: .missed, detail: why),
            entries: [], at: now)
        if fresh {
            logger.warning(
                "occurrence missed, nothing sent",
                metadata: ["campaign": "\(id)", "occurrence": "\(o.id)", "why": "\(why)"])
        }
    }

    /// Plans `items` in one pass (priority order, sharing cap room) and records each occurrence atomically;
    /// an item's user set, when given, limits its decisions to those users. Returns the decisions recorded.
    func plan(
        _ items: [(Campaign, Occurrence, Set<String>?)], book: CampaignBook, now: Int64,
        membership: [String: (entered: [String], left: [String])] = [:], details: [String: String] = [:]
    ) async throws -> (recorded: Int, sends: Int) {
        let started = ContinuousClock.now
        let inputs = try await PlanningSource.inputs(
            store: store, ledger: ledger, config: book.config, campaigns: items.map(\.0), now: now,
            goals: Campaign.conversionGoals(book.campaigns))
        rememberPopulation(inputs.population, now)
        let loaded = ContinuousClock.now
        let decisions = DecisionPipeline.planAll(items.map { ($0.0, $0.1) }, inputs: inputs)
        let decided = ContinuousClock.now
        var byCampaign: [String: [Decision]] = [:]
        for d in decisions { byCampaign[d.campaign, default: []].append(d) }
        var recorded = 0
        var planned = 0
        for (campaign, occurrence, users) in items {
            // A winner test's or a rollout's wave plans only its part of the audience (docs/experiments.md).
            let released = campaign.rollout == nil || Self.isOneShot(campaign) ? 0 : try await releasedStages(campaign)
            let admit = Self.admission(campaign, occurrence: occurrence.id, released: released)
            var mine = (byCampaign[campaign.id] ?? []).filter {
                (users?.contains($0.user) ?? true) && (admit?($0.user) ?? true)
            }
            mine = try await applyBandit(campaign, mine, book: book)
            let entries = mine.map { LedgerEntry(decision: $0, campaign: campaign, at: now, trigger: occurrence.start) }
            let change = membership[campaign.id]
            let (inserted, fresh) = try await ledger.recordOccurrence(
                OccurrenceRecord(campaign: campaign.id, occurrence: occurrence.id, start: occurrence.start, status: .planned,
                                 detail: details[campaign.id]),
                entries: entries, entered: change?.entered ?? [], left: change?.left ?? [], at: now)
            guard fresh else { continue }
            recorded += inserted
            let sends = mine.reduce(0) { $0 + ($1.outcome == .send ? 1 : 0) }
            planned += sends
            // Where planning spends its time: reading the audience, deciding, writing the ledger.
            let ms = { (d: Duration) in String(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000) }
            logger.info(
                "planned",
                metadata: [
                    "campaign": "\(campaign.id)", "occurrence": "\(occurrence.id)", "decisions": "\(inserted)",
                    "sends": "\(sends)", "load_ms": "\(ms(loaded - started))", "decide_ms": "\(ms(decided - loaded))",
                    "write_ms": "\(ms(ContinuousClock.now - decided))",
                ])
        }
        return (recorded, planned)
    }

    /// `entered_segment`: users matching the audience now who were not members at the last evaluation are
    /// planned as one occurrence (journeys: entered); the first evaluation only records the baseline.
    func enteredSegment(
        _ campaigns: [Campaign], journeys: [JourneyDefinition] = [], book: CampaignBook, now: Int64
    ) async throws -> Int {
        let sequence = try await store.changeSequence()
        let skip = cache.withLock { c in
            // At most once a minute even under a stream of writes (each pass loads the whole audience),
            // and every 15 minutes without any (lifecycle and windows move with time alone).
            c.segmentSequence >= 0
                && (now - c.segmentCheckedAt < Self.segmentMinimumInterval
                    || (c.segmentSequence == sequence && now - c.segmentCheckedAt < Self.segmentRecheck))
        }
        if skip { return 0 }
        var recorded = 0
        if !journeys.isEmpty, let runner = journeyRunner.withLock({ $0 }) {
            recorded += try await runner.enterNewMembers(journeys, scheduler: self, book: book, now: now)
        }
        var items: [(Campaign, Occurrence, Set<String>?)] = []
        var membership: [String: (entered: [String], left: [String])] = [:]
        if !campaigns.isEmpty {
            let inputs = try await PlanningSource.inputs(
                store: store, ledger: ledger, config: book.config, campaigns: campaigns, now: now,
                goals: Campaign.conversionGoals(book.campaigns))
            for c in campaigns {
                let mask = DecisionPipeline(campaign: c, occurrence: Occurrence(start: now), inputs: inputs).audienceMask()
                var current = Set<String>()
                for (i, m) in mask.enumerated() where m { current.insert(inputs.snapshot.ids[i]) }
                guard let change = try await membershipChange(c.id, members: current, now: now),
                    !change.entered.isEmpty || !change.left.isEmpty
                else { continue }
                membership[c.id] = change
                items.append((c, Occurrence(start: now, id: "entered-" + TimestampParser.formatUTC(seconds: now)), Set(change.entered)))
            }
        }
        cache.withLock {
            $0.segmentSequence = sequence
            $0.segmentCheckedAt = now
        }
        guard !items.isEmpty else { return recorded }
        return try await recorded + plan(items, book: book, now: now, membership: membership).recorded
    }

    // MARK: API and event triggers

    /// Plans an `api` campaign's occurrence now (`occurrence` is the caller's idempotency key, when given),
    /// for `users` only when given. Planning the same occurrence again inserts nothing. An `api` journey
    /// enters its audience instead (`decisions` counts the instances started).
    public func trigger(campaign id: String, occurrence key: String?, users: [String]?) async throws -> (
        occurrence: String, decisions: Int, sends: Int, alreadyPlanned: Bool
    ) {
        let current = book.current
        if current.campaign(id) == nil, let j = current.journey(id), let journeys = journeyRunner.withLock({ $0 }) {
            return try await journeys.trigger(j, occurrence: key, users: users, now: clock.seconds)
        }
        guard let c = current.campaign(id) else { throw TriggerError.unknownCampaign(id) }
        guard c.status == .active else { throw TriggerError.notActive(id) }
        guard case .api = c.trigger else { throw TriggerError.notAPITriggered(id) }
        let now = clock.seconds
        let o = Occurrence(start: now, id: key.map(Self.safeOccurrenceID) ?? "api-" + TimestampParser.formatUTC(seconds: now))
        if try await ledger.occurrence(campaign: c.id, id: o.id) != nil {
            return (o.id, 0, 0, true)
        }
        let (recorded, sends) = try await plan([(c, o, users.map(Set.init))], book: current, now: now)
        return (o.id, recorded, sends, false)
    }

    /// An occurrence id from a caller's key: a short, key-safe string (idempotency keys use `/`).
    static func safeOccurrenceID(_ key: String) -> String {
        let cleaned = String(key.unicodeScalars.map { s -> Character in
            s.isASCII && (CharacterSet.alphanumerics.contains(s) || "-_.:".unicodeScalars.contains(s)) ? Character(s) : "_"
        }.prefix(80))
        return "api-" + cleaned
    }

    /// Plans the active `event` campaigns `events` trigger, one user at a time (the events are already
    /// durable). An event older than its campaign's window cannot be sent in time and triggers nothing.
    /// Returns the sends planned.
    @discardableResult
    public func handle(events: [EventRecord]) async throws -> Int {
        let current = book.current
        let triggered = current.active.filter { if case .event = $0.trigger { true } else { false } }
        var sends = 0
        if let after = afterEvents.withLock({ $0 }) { sends += try await after(events) }
        guard !triggered.isEmpty else { return sends }
        let now = clock.seconds
        for event in events {
            for c in triggered {
                guard case .event(let name, let delay, _) = c.trigger, name == event.name else { continue }
                let at = Int64((Double(event.timestampMillis) / 1000).rounded(.down))
                let start = at + delay
                guard start + c.sendTime.within > now else { continue }
                sends += try await planOne(c, user: event.userID, triggerAt: at, start: start, book: current, now: now)
            }
        }
        return sends
    }

    /// The event names the active `event` campaigns are triggered by: what an API call records as awaiting
    /// planning until `handle(events:)` has run.
    public var triggeringEvents: Set<String> {
        let current = book.current
        var names = Set(current.active.compactMap { c -> String? in
            if case .event(let name, _, _) = c.trigger { return name }
            return nil
        })
        // Journeys: the events that start, end or answer an instance (docs/journeys.md).
        for j in current.journeys where j.status != .draft {
            if case .event(let name, _, _) = j.trigger { names.insert(name) }
            names.formUnion(j.exitEvents)
            for step in j.steps { if case .waitFor(let w) = step.kind { names.insert(w.event) } }
        }
        return names
    }

    /// What runs after the event campaigns of stored events are planned: the journey runner (entries, exits,
    /// answered waits). Set once by the daemon.
    let afterEvents = LockedState<(@Sendable ([EventRecord]) async throws -> Int)?>(nil)
    /// The journey runner, whose journeys fire on this scheduler's triggers. Set once by the daemon.
    let journeyRunner = LockedState<JourneyRunner?>(nil)

    /// Runs `journeys` on every batch of stored events after their campaigns are planned (entries, exits,
    /// answered waits); a signal on `wakeup` when an instance moved.
    public func runJourneys(_ journeys: JourneyRunner, wakeup: Wakeup?) {
        journeyRunner.withLock { $0 = journeys }
        afterEvents.withLock {
            $0 = { events in
                let moved = try await journeys.enter(events: events) + journeys.handle(events: events)
                if moved > 0 { wakeup?.signal() }
                return moved
            }
        }
    }

    /// Plans the event campaigns of events an API call stored but whose planning never ran (a crash between
    /// the two; the client got no reply, and its retry is a duplicate that triggers nothing): the store's
    /// events awaiting planning, which only API calls record. Imported events are never among them, so
    /// history never triggers. Planning is idempotent, so an event whose planning was recorded but not yet
    /// cleared plans nothing again. Returns the sends planned.
    @discardableResult
    public func recoverEventTriggers(limit: Int = 100_000) async throws -> Int {
        let pending = try await store.eventsAwaitingPlanning(limit: limit)
        guard !pending.isEmpty else { return 0 }
        let sends = try await handle(events: pending)
        try await store.markPlanned(pending)
        logger.warning(
            "planned events stored before a crash", metadata: ["events": "\(pending.count)", "sends": "\(sends)"])
        return sends
    }

    /// The occurrence id of an event at `at`, epoch seconds.
    public static func eventOccurrence(_ at: Int64) -> String { "ev-" + TimestampParser.formatUTC(seconds: at) }

    private func planOne(
        _ c: Campaign, user: String, triggerAt: Int64, start: Int64, book: CampaignBook, now: Int64
    ) async throws -> Int {
        let o = Occurrence.event(triggeredAt: triggerAt, delay: start - triggerAt, id: Self.eventOccurrence(triggerAt))
        guard
            let inputs = try await PlanningSource.inputs(
                forUser: user, store: store, ledger: ledger, config: book.config, campaign: c, now: now,
                goals: Campaign.conversionGoals(book.campaigns), population: try await population(book, now))
        else { return 0 }
        var decisions = DecisionPipeline(campaign: c, occurrence: o, inputs: inputs).plan()
        if c.rollout != nil, let admit = Self.admission(c, occurrence: o.id, released: try await releasedStages(c)) {
            decisions = decisions.filter { admit($0.user) }
        }
        decisions = try await applyBandit(c, decisions, book: book)
        let entries = decisions.map { d -> LedgerEntry in
            var e = LedgerEntry(decision: d, campaign: c, at: now, trigger: start)
            e.triggerAt = triggerAt
            return e
        }
        let (inserted, fresh) = try await ledger.recordOccurrence(
            OccurrenceRecord(
                campaign: c.id, occurrence: o.id + "/" + user, start: start, status: .planned),
            entries: entries, at: now)
        guard fresh, inserted > 0 else { return 0 }
        return decisions.reduce(0) { $0 + ($1.outcome == .send ? 1 : 0) }
    }

    /// The RFM population for single-user planning: the last one computed (the scheduler's tick refreshes it
    /// every 15 minutes), or a fresh one the first time.
    public func population(_ book: CampaignBook, _ now: Int64) async throws -> PopulationStats {
        if let p = cache.withLock({ $0.population }) { return p }
        return try await refreshPopulation(book, now)
    }

    @discardableResult
    private func refreshPopulation(_ book: CampaignBook, _ now: Int64) async throws -> PopulationStats {
        let snapshot = try await store.snapshot(PopulationStats.requirements)
        let env = EvaluationEnvironment(
            now: now, lifecycle: book.config.lifecycle, defaultTimeZone: book.config.policy.defaultTimezone)
        let p = PopulationStats.compute(snapshot, env)
        rememberPopulation(p, now)
        return p
    }

    private func rememberPopulation(_ p: PopulationStats, _ now: Int64) {
        cache.withLock {
            $0.population = p
            $0.populationAt = now
        }
    }
}
